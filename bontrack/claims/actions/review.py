"""Billing review of a claim: edit a line with a reason (old and new value kept), refresh the
lines from the chart (guidance, new diagnosis), accept a claim that needs attention, and keep the
patient's insurance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.claims.actions.common import lock, record, require, require_editable
from bontrack.claims.actions.generate import apply, build, coverage_attention
from bontrack.claims.choices import ClaimStatus, FilingIndicator, Guidance
from bontrack.claims.models import Claim, ClaimEdit, ClaimLine, Coverage
from bontrack.patients.choices import SubscriberRelationship
from bontrack.patients.models import Patient

LINE_FIELDS = ("code", "modifiers", "units", "icd10", "charge")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why you change the claim."]})
    return reason


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


@transaction.atomic(durable=True)
def edit_line(
    *,
    actor: User,
    claim: Claim,
    line_id: int,
    reason: str,
    code: str | None = None,
    modifiers: list[str] | None = None,
    units: Decimal | None = None,
    icd10: list[str] | None = None,
    charge: Decimal | None = None,
) -> ClaimLine:
    """Change a line's code, modifiers, units, diagnoses or charge; each changed field keeps its
    before and after value and the reason (ClaimEdit and the audit row)."""
    require(actor, Perm.CLAIM_EDIT, claim)
    why = _reason(reason)
    locked = lock(claim)
    require_editable(locked)
    line = ClaimLine.objects.filter(claim=locked, pk=line_id).first()
    if line is None:
        raise ValidationError({"line": ["That line is not on this claim."]})
    errors: dict[str, list[str]] = {}
    new: dict[str, Any] = {"code": code, "modifiers": modifiers, "units": units, "icd10": icd10}
    new["charge"] = charge
    if code is not None and not (len(code) == 5 and code.isalnum() and code.isascii()):
        errors["code"] = ["A CPT or HCPCS code has five letters or digits, e.g. 64616 or J0585."]
    if units is not None and units <= 0:
        errors["units"] = ["Units must be more than zero."]
    if charge is not None and charge < 0:
        errors["charge"] = ["The charge cannot be negative."]
    if icd10 is not None:
        unknown = [c for c in icd10 if c not in locked.diagnoses]
        if unknown or len(icd10) > 4 or not icd10:
            errors["icd10"] = [
                "Pick one to four of the claim's diagnoses ("
                + ", ".join(locked.diagnoses or ["none on file"])
                + ")."
            ]
    if errors:
        raise ValidationError(errors)
    changes: dict[str, list[Any]] = {}
    edits = []
    for name, value in new.items():
        if value is None:
            continue
        if name == "code":
            value = value.upper()
        before = getattr(line, name)
        if _text(before) == _text(value):
            continue
        changes[name] = [_text(before), _text(value)]
        edits.append(
            ClaimEdit(
                claim=locked,
                line=line,
                field=name,
                before=_text(before)[:300],
                after=_text(value)[:300],
                reason=why,
                by=actor,
            )
        )
        setattr(line, name, value)
    if not changes:
        raise ValidationError({"__all__": ["Nothing changed on this line."]})
    if "units" in changes and line.ndc:
        line.ndc_quantity = line.units
    line.edited = True
    line.save()
    ClaimEdit.objects.bulk_create(edits)
    record(
        actor,
        "update",
        locked,
        f"Edited line {line.position + 1} of claim {locked.pk}: {why}"[:300],
        {**changes, "reason": [None, why], "line": [None, line.pk]},
    )
    return line


@transaction.atomic(durable=True)
def refresh_lines(*, actor: User, claim: Claim, guidance: str, reason: str) -> Claim:
    """Run billing-lines again from the signed session as it is now (after a diagnosis was added,
    or with the guidance the note documents). Edited lines are replaced."""
    require(actor, Perm.CLAIM_EDIT, claim)
    why = _reason(reason)
    if guidance not in Guidance.values:
        raise ValidationError({"guidance": ["Pick the guidance the procedure note documents."]})
    locked = lock(claim)
    require_editable(locked)
    before_lines = [str(x) for x in locked.lines.all()]
    before = {"status": locked.status, "guidance": locked.guidance}
    locked.guidance = guidance
    built = build(locked.session, guidance)
    apply(locked, built, locked.clinic.practice_id, coverage_attention(locked.patient))
    locked.reviewed_note = ""
    locked.save()
    after_lines = [str(x) for x in locked.lines.all()]
    ClaimEdit.objects.create(
        claim=locked,
        field="lines",
        before="; ".join(before_lines)[:300],
        after="; ".join(after_lines)[:300],
        reason=why,
        by=actor,
    )
    record(
        actor,
        "update",
        locked,
        f"Refreshed the lines of claim {locked.pk}: {why}"[:300],
        {
            "status": [before["status"], locked.status],
            "guidance": [before["guidance"], locked.guidance],
            "lines": [before_lines, after_lines],
            "reason": [None, why],
        },
    )
    return locked


@transaction.atomic(durable=True)
def accept(*, actor: User, claim: Claim, reason: str) -> Claim:
    """Billing reviewed a claim that needs attention and accepts it as it is (ready to export)."""
    require(actor, Perm.CLAIM_EDIT, claim)
    why = _reason(reason)
    locked = lock(claim)
    if locked.status != ClaimStatus.NEEDS_ATTENTION:
        raise ValidationError({"__all__": ["Only a claim that needs attention can be accepted."]})
    if not locked.lines.exists():
        raise ValidationError({"__all__": ["This claim has no lines: refresh them first."]})
    if not Coverage.objects.filter(patient_id=locked.patient_id).exists():
        raise ValidationError({"__all__": ["Add the patient's insurance before accepting."]})
    locked.status = ClaimStatus.READY
    locked.reviewed_note = why
    locked.save(update_fields=["status", "reviewed_note", "updated_at"])
    ClaimEdit.objects.create(
        claim=locked,
        field="status",
        before=ClaimStatus.NEEDS_ATTENTION.label,
        after=ClaimStatus.READY.label,
        reason=why,
        by=actor,
    )
    record(
        actor,
        "update",
        locked,
        f"Accepted claim {locked.pk} for export: {why}"[:300],
        {"status": [ClaimStatus.NEEDS_ATTENTION, ClaimStatus.READY], "reason": [None, why]},
    )
    return locked


COVERAGE_FIELDS = (
    "payer_name",
    "payer_id",
    "member_id",
    "group_number",
    "filing_indicator",
    "subscriber_relationship",
    "subscriber_last_name",
    "subscriber_first_name",
    "address",
    "address2",
    "city",
    "state",
    "zip_code",
)
OPTIONAL_FIELDS = {"group_number", "subscriber_last_name", "subscriber_first_name", "address2"}


@transaction.atomic(durable=True)
def save_coverage(*, actor: User, patient: Patient, **values: str) -> Coverage:
    """Create or change the patient's insurance as billing keeps it (audited with old and new).
    The registration's values at this moment are kept with it (``registration``), so a later
    registration edit that disagrees can be pointed out."""
    from bontrack.accounts.access import require_clinic_perm
    from bontrack.claims import registration

    require_clinic_perm(actor, Perm.CLAIM_EDIT, patient.clinic_id)
    errors: dict[str, list[str]] = {}
    clean = {k: (values.get(k) or "").strip() for k in COVERAGE_FIELDS}
    if not clean["subscriber_relationship"]:
        clean["subscriber_relationship"] = SubscriberRelationship.SELF
    for k, v in clean.items():
        if not v and k not in OPTIONAL_FIELDS:
            errors[k] = ["Required for the claim."]
    if clean["filing_indicator"] and clean["filing_indicator"] not in FilingIndicator.values:
        errors["filing_indicator"] = ["Pick the kind of insurance."]
    if clean["subscriber_relationship"] not in SubscriberRelationship.values:
        errors["subscriber_relationship"] = ["Pick who holds the policy."]
    elif clean["subscriber_relationship"] == SubscriberRelationship.SELF:
        # The patient is the subscriber: the claim names the patient.
        clean["subscriber_last_name"] = clean["subscriber_first_name"] = ""
    elif not clean["subscriber_last_name"]:
        errors["subscriber_last_name"] = [
            "The patient is insured through someone else: give the policy holder's last name "
            "as on the insurance card."
        ]
    if clean["state"] and not (len(clean["state"]) == 2 and clean["state"].isalpha()):
        errors["state"] = ["Two letters, e.g. IL."]
    if clean["zip_code"] and not (clean["zip_code"].isdigit() and len(clean["zip_code"]) in (5, 9)):
        errors["zip_code"] = ["Five or nine digits."]
    if errors:
        raise ValidationError(errors)
    clean["state"] = clean["state"].upper()
    cov = Coverage.objects.select_for_update().filter(patient=patient).first()
    before = {k: getattr(cov, k) for k in COVERAGE_FIELDS} if cov else {}
    if cov is None:
        cov = Coverage(patient=patient)
    for k, v in clean.items():
        setattr(cov, k, v)
    cov.registration = registration.values(patient)
    cov.save()
    from bontrack.audit import audit

    audit.record(
        actor=actor,
        action="update" if before else "create",
        obj=cov,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        summary=f"Insurance of patient {patient.pk}: {cov.payer_name}",
        changes={k: [before.get(k), v] for k, v in clean.items() if before.get(k) != v},
    )
    return cov
