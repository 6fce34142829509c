"""A claim for every claimable (signed) session: lines from clinic_rules ``billing-lines`` for
every indication of the session, the J0585 lines split over the vials' NDCs, the reasons it needs
attention in sentences.

Called by treatments' ``session_claimable`` hook inside the signing (or co-signing) transaction,
and by ``bontrack claims_backfill`` for sessions signed before (or while a receiver failed).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bontrack.claims import facts
from bontrack.claims.actions.common import record
from bontrack.claims.choices import ClaimStatus, Guidance
from bontrack.claims.codes import ndc11
from bontrack.claims.models import BillingProfile, Claim, ClaimLine, Coverage
from bontrack.patients.models import Condition, Patient
from bontrack.treatments.choices import Guidance as ChartedGuidance
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.models import TreatmentSession, VialUse

log = logging.getLogger(__name__)
CENT = Decimal("0.01")


@dataclass
class Built:
    """What a session bills, before it is stored."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    diagnoses: list[str] = field(default_factory=list)
    indications: list[str] = field(default_factory=list)
    rule_set: str = ""


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _diagnoses(
    session: TreatmentSession, indications: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """The patient's active ICD-10-CM codes for the session's indications (claim order), and a
    sentence per indication with none on file."""
    rows = list(
        Condition.objects.filter(
            patient_id=session.patient_id, active=True, indication__in=indications
        )
        .order_by("id")
        .values_list("indication", "icd10_code")
    )
    codes: list[str] = []
    missing: list[str] = []
    without: list[str] = []
    for ind in indications:
        mine = [c.strip().upper() for i, c in rows if i == ind]
        if not mine:
            without.append(ind)
            missing.append(
                f"No ICD-10-CM code on file for {facts.indication_label(ind).lower()}: "
                "add the diagnosis to the patient's conditions, then refresh the lines."
            )
        for c in mine:
            if c not in codes:
                codes.append(c)
    return codes[:12], missing, without


def _vial_split(
    uses: list[VialUse], given: Decimal, wasted: Decimal, attention: list[str]
) -> tuple[OrderedDict[str, Decimal], OrderedDict[str, Decimal]]:
    """Units given and wasted per 11-digit NDC, from the vials' settled uses; empty when the vial
    records do not add up to clinic_rules' totals (a sentence says so)."""
    used: OrderedDict[str, Decimal] = OrderedDict()
    lost: OrderedDict[str, Decimal] = OrderedDict()
    for u in uses:
        code = ndc11(u.vial.lot.ndc)
        if code is None:
            attention.append(
                f"Lot {u.vial.lot.lot_number} has the NDC “{u.vial.lot.ndc}”, which is not a "
                "10- or 11-digit NDC: correct the lot before export."
            )
            return OrderedDict(), OrderedDict()
        used[code] = used.get(code, Decimal(0)) + u.units_used
        lost[code] = lost.get(code, Decimal(0)) + u.units_wasted
    if (
        _dec(sum(used.values(), Decimal(0))) != given
        or _dec(sum(lost.values(), Decimal(0))) != wasted
    ):
        attention.append(
            f"The vial records ({_dec(sum(used.values(), Decimal(0)))} U given, "
            f"{_dec(sum(lost.values(), Decimal(0)))} U wasted) do not match the session "
            f"({given} U given, {wasted} U wasted): check the vials before export."
        )
        return OrderedDict(), OrderedDict()
    return used, lost


def build(session: TreatmentSession, guidance: str) -> Built:
    """Run ``billing-lines`` for the session as signed and shape the claim lines."""
    out = Built()
    injections = list(session.injections.all())
    indications = list(session.indications or [session.indication])
    for i in injections:
        if i.status == "done" and i.indication not in indications:
            indications.append(i.indication)
    out.indications = indications
    uses = list(
        VialUse.objects.filter(session=session).select_related("vial__lot").order_by("vial_id")
    )
    out.diagnoses, missing, unsupported = _diagnoses(session, indications)
    out.attention += missing
    billed, problems = facts.billing_injections(injections)
    out.attention += problems
    if not uses:
        out.attention.append("No vial is recorded for this session, so J0585 cannot be billed.")
        return out
    if not billed:
        out.attention.append("No injected site can be billed for this session.")
        return out
    units_given = sum((i.units for i in injections if i.status == "done"), Decimal(0))
    zone = facts.zone(session.clinic.time_zone)
    doc = facts.billing_document(
        service_date=timezone.localtime(session.performed_at, zone).date(),
        injections=billed,
        vial_sizes=[u.vial.lot.size_units for u in uses],
        units_given=float(units_given),
        diagnoses=out.diagnoses,
        guidance=guidance,
        practice_id=session.patient.practice_id,
    )
    try:
        result = facts.run_billing(doc)
    except facts.BillingInputError as exc:
        messages = sorted({m for v in exc.errors.values() for m in v})
        out.attention.append(
            "The session could not be coded (" + "; ".join(messages) + "): check the chart."
        )
        return out
    out.rule_set = str(result["rule_set"])
    out.findings = list(result["findings"])
    out.totals = dict(result["totals"])
    for f in out.findings:
        if f["severity"] not in ("warn", "block"):
            continue
        if f["rule_id"] == facts.ICD_MATCH_RULE and any(
            facts.indication_label(i).lower() in str(f["message"]) for i in unsupported
        ):
            continue  # already said in our own sentence ("No ICD-10-CM code on file for ...")
        out.attention.append(str(f["message"]))
    given = _dec(out.totals["units_given"])
    wasted = _dec(out.totals["units_wasted"])
    used, lost = _vial_split(uses, given, wasted, out.attention)
    for line in result["lines"]:
        base = {
            "code": str(line["code"]),
            "modifiers": list(line["modifiers"]),
            "units": _dec(line["units"]),
            "icd10": list(line["icd10"]),
            "indication": str(line.get("indication") or ""),
            "rule_id": str(line["rule_id"]),
        }
        if base["rule_id"] not in facts.DRUG_RULES:
            out.lines.append(base)
            continue
        wasted_line = base["rule_id"] == facts.WASTE_RULE
        split = lost if wasted_line else used
        parts = [(ndc, units) for ndc, units in split.items() if units > 0]
        if not parts:  # the records do not add up: one line, no NDC (needs attention)
            out.lines.append(base)
            continue
        for ndc, units in parts:
            out.lines.append(
                {
                    **base,
                    "units": _dec(units),
                    "ndc": ndc,
                    "ndc_qualifier": "N4",
                    "ndc_unit": "UN",
                    "ndc_quantity": _dec(units),
                }
            )
    return out


def coverage_attention(patient: Patient) -> list[str]:
    """Why the patient's insurance keeps the claim from the payer (sentences; empty: nothing)."""
    from bontrack.claims.registration import has_insurance

    cov = Coverage.objects.filter(patient_id=patient.pk).first()
    if cov is None:
        if has_insurance(patient):
            return [
                "Billing has not checked this patient's insurance yet: open the insurance (it "
                "starts from the registration), add the payer ID and save it."
            ]
        return ["No insurance on file for this patient: add the payer and member ID."]
    if cov.dependent and not cov.subscriber_last_name:
        return [
            "The patient is insured through someone else, but the policy holder's name is "
            "missing: add it on the insurance page from the insurance card."
        ]
    return []


def _coverage_attention(session: TreatmentSession) -> list[str]:
    return coverage_attention(session.patient)


def _fees(practice_id: int) -> dict[str, Any]:
    profile = BillingProfile.objects.filter(practice_id=practice_id).first()
    return dict(profile.fees) if profile is not None else {}


def store_lines(claim: Claim, built: Built, practice_id: int) -> list[str]:
    """Replace the claim's lines with the built ones; sentences for codes without a fee."""
    fees = _fees(practice_id)
    ClaimLine.objects.filter(claim=claim).delete()
    rows = []
    unpriced: list[str] = []
    for pos, line in enumerate(built.lines):
        fee = fees.get(line["code"])
        if fee is None and line["code"] not in unpriced:
            unpriced.append(line["code"])
        rows.append(
            ClaimLine(
                claim=claim,
                position=pos,
                code=line["code"],
                modifiers=line["modifiers"],
                units=line["units"],
                icd10=line["icd10"],
                charge=_dec(Decimal(str(fee or 0)) * line["units"]),
                ndc=line.get("ndc", ""),
                ndc_qualifier=line.get("ndc_qualifier", ""),
                ndc_unit=line.get("ndc_unit", ""),
                ndc_quantity=line.get("ndc_quantity"),
                indication=line["indication"],
                rule_id=line["rule_id"],
            )
        )
    ClaimLine.objects.bulk_create(rows)
    return [
        f"No charge for {code} in the practice's fee schedule: enter the charge on its line."
        for code in unpriced
    ]


def apply(claim: Claim, built: Built, practice_id: int, extra: list[str]) -> None:
    claim.findings = built.findings
    claim.totals = built.totals
    claim.rule_set = built.rule_set
    claim.diagnoses = built.diagnoses
    claim.indications = built.indications
    attention = built.attention + extra + store_lines(claim, built, practice_id)
    claim.attention = list(dict.fromkeys(attention))
    claim.status = ClaimStatus.NEEDS_ATTENTION if claim.attention else ClaimStatus.READY


# One guidance code per session (clinic_rules BILL-GUIDANCE): when sites were placed with more
# than one method, the claim takes the first of this order and says so. Landmarks bill nothing.
_GUIDANCE_ORDER = (ChartedGuidance.EMG, ChartedGuidance.ESTIM, ChartedGuidance.ULTRASOUND)


def charted_guidance(session: TreatmentSession) -> tuple[str, list[str]]:
    """The claim's guidance from the charted sites' guidance (one query), and a sentence when the
    sites used more than one billable method."""
    used = set(
        session.injections.exclude(guidance="").values_list("guidance", flat=True).distinct()
    )
    billable = [g for g in _GUIDANCE_ORDER if g in used]
    if not billable:
        return Guidance.NONE, []
    chosen = billable[0]
    if len(billable) == 1:
        return chosen, []
    names = ", ".join(ChartedGuidance(g).label.lower() for g in billable)
    return chosen, [
        f"Sites were placed with more than one guidance method ({names}); only one guidance "
        f"code may be billed, so the claim uses {Guidance(chosen).label.lower()}: check it "
        "against the procedure note."
    ]


def create_claim(session: TreatmentSession, actor: Any) -> Claim | None:
    """The session's claim (None when it has one or is not claimable). Runs in the caller's
    transaction."""
    if session.status != SessionStatus.SIGNED or Claim.objects.filter(session=session).exists():
        return None
    session = TreatmentSession.objects.select_related("patient", "clinic").get(pk=session.pk)
    extra = _coverage_attention(session)
    if session.amends_id:
        prior = Claim.objects.select_for_update().filter(session_id=session.amends_id).first()
        if prior is not None and prior.editable:
            prior.status = ClaimStatus.SUPERSEDED
            prior.save(update_fields=["status", "updated_at"])
            record(
                actor,
                "update",
                prior,
                f"Claim {prior.pk} replaced by the claim of amendment {session.pk}",
                {"status": [ClaimStatus.NEEDS_ATTENTION, ClaimStatus.SUPERSEDED]},
            )
        elif prior is not None:
            extra.append(
                f"This session corrects a session whose claim was already "
                f"{prior.get_status_display().lower()}: send it to the payer as a replacement "
                "claim."
            )
    zone = facts.zone(session.clinic.time_zone)
    claim = Claim(
        session=session,
        patient=session.patient,
        clinic=session.clinic,
        service_date=timezone.localtime(session.performed_at, zone).date(),
    )
    claim.guidance, mixed = charted_guidance(session)
    extra += mixed
    claim.save()
    built = build(session, claim.guidance)
    apply(claim, built, session.patient.practice_id, extra)
    claim.save()
    record(
        actor,
        "create",
        claim,
        f"Claim {claim.pk} for session {session.pk}: {len(built.lines)} lines"
        + (" (needs attention)" if claim.attention else ""),
        {
            "status": [None, claim.status],
            "lines": [None, [line_text(x) for x in built.lines]],
        },
    )
    return claim


def line_text(line: dict[str, Any]) -> str:
    mods = "-".join(line["modifiers"])
    return f"{line['code']}{'-' + mods if mods else ''} x{line['units']}"


def on_session_claimable(session: TreatmentSession, actor: Any) -> None:
    """treatments' hook: inside the signature's transaction, in a savepoint so a coding failure
    never undoes a signature (the backfill command picks such a session up again)."""
    try:
        with transaction.atomic():
            create_claim(session, actor)
    except Exception:  # noqa: BLE001 - the signature must stand; the failure is logged
        log.exception("Claim for session %s not generated", session.pk)


@transaction.atomic(durable=True)
def backfill(*, practice_id: int | None = None, actor: Any = None) -> int:
    """Claims for every claimable session without one (oldest first); returns how many."""
    qs = TreatmentSession.objects.claimable().filter(claim__isnull=True)
    if practice_id is not None:
        qs = qs.filter(patient__practice_id=practice_id)
    made = 0
    for session in qs.order_by("performed_at", "id").iterator():
        if create_claim(session, actor) is not None:
            made += 1
    return made
