"""Every change to plans, sessions, adverse effects and response reviews.

Each use case is one durable transaction with its audit row(s) inside; the actor's permission is
checked for the patient's clinic. Draft edits run ``dose-check`` on the proposed state: an edit that
leaves a ``block`` finding without a physician override is refused (nothing is written), unless a
physician passes ``override_reason`` with it. Signing also needs every ``warn`` acknowledged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.inventory import services as inventory
from bontrack.inventory.models import Vial
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.treatments import facts
from bontrack.treatments.choices import (
    AdverseEffectKind,
    AdverseEffectStatus,
    DecisionKind,
    InjectionStatus,
    Reporter,
    ReviewDecision,
    SessionStatus,
    Side,
)
from bontrack.treatments.models import (
    AdverseEffect,
    CheckIn,
    FindingDecision,
    Injection,
    PlanLine,
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
)

__all__ = ["Blocked", "Conflict"]

# Follow-up check-in window after a session, in days (program policy, not a label rule). The fact
# sheet has no sourced onset window for chronic migraine; the practice checks in for adverse effects
# (ptosis, neck pain or weakness, dysphagia: the boxed-warning effects, S27b) between 2 and 4 weeks.
CHECKIN_OPENS_DAYS = 14
CHECKIN_CLOSES_DAYS = 28
CHECKIN_REMINDER_HOUR = 9  # local clinic time of the check-in email (not clinical)
MAX_FTP_ADDITIONS = 20  # sanity bound on rows added to one session (not a clinical limit)


class Blocked(ValidationError):
    """A ``block`` finding without a physician override: the change was not saved (HTTP 422)."""

    def __init__(self, result: dict[str, Any], blocks: list[dict[str, Any]]) -> None:
        super().__init__(
            {
                "findings": [
                    f"{f['rule_id']}: {f['message']} — a physician override with a reason is required."
                    for f in blocks
                ]
            }
        )
        self.result = result
        self.blocks = blocks


def _record(
    actor: Any,
    action: str,
    obj: Any,
    patient: Patient,
    summary: str,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=changes,
        summary=summary,
    )


def _valid_muscle(muscle: str, side: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if muscle not in facts.muscle_labels():
        errors["muscle"] = ["Choose a muscle from the list."]
    if side not in Side.values:
        errors["side"] = ["Choose left, right, midline or bilateral."]
    return errors


# ---- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    muscle: str
    side: str
    sites: int
    units: Decimal
    follow_the_pain: bool = False


def template_lines() -> list[Line]:
    return [
        Line(str(r["muscle"]), str(r["side"]), int(r["sites"]), Decimal(str(r["units"])))
        for r in facts.preempt_rows()
    ]


def apply_adjustments(lines: list[Line], adjustments: Iterable[dict[str, Any]]) -> list[Line]:
    """Set each adjusted (muscle, side) line to its new sites and units; new pairs are added."""
    by_key = {(ln.muscle, ln.side): ln for ln in lines}
    order = [(ln.muscle, ln.side) for ln in lines]
    template = {(ln.muscle, ln.side): ln for ln in template_lines()}
    for adj in adjustments:
        key = (adj["muscle"], adj["side"])
        sites, units = int(adj["sites"]), Decimal(str(adj["units"]))
        if sites == 0:
            by_key.pop(key, None)
            continue
        base = template.get(key)
        extra = base is None or sites > base.sites
        by_key[key] = Line(key[0], key[1], sites, units, follow_the_pain=extra)
        if key not in order:
            order.append(key)
    return [by_key[k] for k in order if k in by_key]


def _validate_lines(lines: Iterable[Line], field: str) -> None:
    errors: dict[str, list[str]] = {}
    for i, ln in enumerate(lines):
        for key, msgs in _valid_muscle(ln.muscle, ln.side).items():
            errors[f"{field}.{i}.{key}"] = msgs
        if ln.sites < 1 or ln.sites > 100:
            errors[f"{field}.{i}.sites"] = ["Enter 1 to 100 sites."]
        if ln.units <= 0 or ln.units > 1000:
            errors[f"{field}.{i}.units"] = ["Enter the units (more than 0)."]
    if errors:
        raise ValidationError(errors)


def _new_plan(
    *,
    actor: User,
    patient: Patient,
    lines: list[Line],
    based_on: TreatmentPlan | None,
    review: ResponseReview | None,
    note: str,
) -> TreatmentPlan:
    TreatmentPlan.objects.filter(
        patient=patient, indication="chronic_migraine", active=True
    ).update(active=False)
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        based_on=based_on,
        review=review,
        note=note,
        created_by=actor,
    )
    PlanLine.objects.bulk_create(
        [
            PlanLine(
                plan=plan,
                muscle=ln.muscle,
                side=ln.side,
                sites=ln.sites,
                units=ln.units,
                follow_the_pain=ln.follow_the_pain,
                position=i,
            )
            for i, ln in enumerate(lines)
        ]
    )
    _record(
        actor,
        "create",
        plan,
        patient,
        f"Treatment plan {sum(ln.units for ln in lines)} U in {sum(ln.sites for ln in lines)} sites",
        {
            "lines": [None, [[ln.muscle, ln.side, ln.sites, str(ln.units)] for ln in lines]],
            "based_on": [None, based_on.pk if based_on else None],
        },
    )
    return plan


def plan_lines(plan: TreatmentPlan) -> list[Line]:
    return [
        Line(pl.muscle, pl.side, pl.sites, pl.units, pl.follow_the_pain) for pl in plan.lines.all()
    ]


@transaction.atomic(durable=True)
def create_plan(
    *,
    actor: User,
    patient: Patient,
    additions: Iterable[dict[str, Any]] = (),
    note: str = "",
) -> TreatmentPlan:
    """A new active plan: the last plan (or the PREEMPT template) plus follow-the-pain additions."""
    _require(actor, Perm.SESSION_CHART, patient.clinic_id)
    additions = list(additions)
    last = active_plan(patient)
    lines = plan_lines(last) if last else template_lines()
    adjustments = []
    current = {(ln.muscle, ln.side): ln for ln in lines}
    ftp = set(facts.ftp_limits()["muscles"])
    errors: dict[str, list[str]] = {}
    for i, add in enumerate(additions):
        if add.get("muscle") not in ftp:
            errors[f"additions.{i}.muscle"] = [
                "Follow-the-pain sites go in " + ", ".join(sorted(ftp)) + "."
            ]
            continue
        key = (add["muscle"], add["side"])
        have = current.get(key)
        sites = int(add.get("sites", 1))
        units = Decimal(str(add.get("units", facts.units_per_site() * sites)))
        adjustments.append(
            {
                "muscle": key[0],
                "side": key[1],
                "sites": (have.sites if have else 0) + sites,
                "units": (have.units if have else Decimal(0)) + units,
            }
        )
    if errors:
        raise ValidationError(errors)
    lines = apply_adjustments(lines, adjustments)
    _validate_lines(lines, "additions")
    return _new_plan(
        actor=actor, patient=patient, lines=lines, based_on=last, review=None, note=note.strip()
    )


def active_plan(patient: Patient) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(patient=patient, indication="chronic_migraine", active=True)
        .prefetch_related("lines")
        .first()
    )


# ---- sessions ----------------------------------------------------------------------------------


def _expand(lines: list[Line]) -> list[tuple[Line, Decimal]]:
    """One charted injection per site: a line of N sites and U units gives N rows of U/N."""
    out = []
    for ln in lines:
        per = (ln.units / ln.sites).quantize(Decimal("0.01"))
        out += [(ln, per)] * ln.sites
    return out


@transaction.atomic(durable=True)
def create_session(
    *,
    actor: User,
    patient: Patient,
    performed_at: datetime | None = None,
    clinic: Clinic | None = None,
) -> TreatmentSession:
    """A draft chronic migraine session from the active plan (the PREEMPT template when none)."""
    clinic = clinic or patient.clinic
    if clinic.practice_id != patient.practice_id:
        raise ValidationError({"clinic_id": ["Choose a clinic of this practice."]})
    _require(actor, Perm.SESSION_CHART, patient.clinic_id)
    _require(actor, Perm.SESSION_CHART, clinic.pk)
    performed_at = performed_at or timezone.now()
    if performed_at > timezone.now() + timedelta(days=1):
        raise ValidationError({"performed_at": ["A session cannot be charted ahead of time."]})
    if TreatmentSession.objects.filter(
        patient=patient, status=SessionStatus.DRAFT, amends__isnull=True
    ).exists():
        raise Conflict("This patient already has a draft session; finish it first.")
    plan = active_plan(patient)
    lines = plan_lines(plan) if plan else template_lines()
    session = TreatmentSession.objects.create(
        patient=patient,
        clinic=clinic,
        performed_at=performed_at,
        plan=plan,
        created_by=actor,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=session,
                muscle=ln.muscle,
                side=ln.side,
                sites=1,
                units=per,
                follow_the_pain=ln.follow_the_pain,
                position=i,
            )
            for i, (ln, per) in enumerate(_expand(lines))
        ]
    )
    _record(
        actor,
        "create",
        session,
        patient,
        f"Draft session from {'plan ' + str(plan.pk) if plan else 'the PREEMPT template'}",
        {"performed_at": [None, performed_at], "plan": [None, plan.pk if plan else None]},
    )
    return session


def _lock_draft(session: TreatmentSession, actor: User, perm: str) -> TreatmentSession:
    locked = (
        TreatmentSession.objects.select_for_update()
        .select_related("patient", "clinic")
        .get(pk=session.pk)
    )
    _require(actor, perm, locked.patient.clinic_id)
    if locked.status != SessionStatus.DRAFT:
        raise Conflict("This session is signed; corrections are made with an amendment.")
    return locked


def chain_ids(sessions: Iterable[TreatmentSession]) -> dict[int, list[int]]:
    """Each session with the sessions it amends, back to the original (one query at most).

    A session's vials are the vials opened on any session of its chain: the original's plus
    the ones each amendment opened (``Vial.session`` stays where the vial was opened).
    """
    sessions = list(sessions)
    links: dict[int, int] = {}
    if any(s.amends_id for s in sessions):
        links = dict(
            TreatmentSession.objects.filter(
                patient_id__in={s.patient_id for s in sessions}, amends__isnull=False
            ).values_list("pk", "amends_id")
        )
    out: dict[int, list[int]] = {}
    for s in sessions:
        ids, cur = [s.pk], s.amends_id
        while cur is not None and cur not in ids:
            ids.append(cur)
            cur = links.get(cur)
        out[s.pk] = ids
    return out


def session_vials(session: TreatmentSession) -> list[Vial]:
    ids = chain_ids([session])[session.pk]
    return list(Vial.objects.filter(session_id__in=ids).select_related("lot").order_by("id"))


def _guard(
    *,
    actor: User,
    session: TreatmentSession,
    injections: list[Injection],
    vials: list[Vial],
    override_reason: str = "",
) -> dict[str, Any]:
    """Run dose-check on the proposed state; refuse unresolved blocks unless a physician overrides."""
    result = facts.run_dose_check(session, injections, vials)
    overridden = set(
        FindingDecision.objects.filter(session=session, kind=DecisionKind.OVERRIDE).values_list(
            "rule_id", flat=True
        )
    )
    blocks = [
        f for f in result["findings"] if f["severity"] == "block" and f["rule_id"] not in overridden
    ]
    if not blocks:
        return result
    if not override_reason.strip() or any(f["rule_id"] == "INPUT" for f in blocks):
        raise Blocked(result, blocks)
    _require(actor, Perm.SESSION_OVERRIDE_BLOCK, session.patient.clinic_id)
    for f in blocks:
        _decide(actor, session, f, DecisionKind.OVERRIDE, override_reason.strip())
    return result


def _decide(
    actor: User, session: TreatmentSession, finding: dict[str, Any], kind: str, reason: str
) -> FindingDecision:
    row = FindingDecision.objects.create(
        session=session,
        rule_id=finding["rule_id"],
        severity=finding["severity"],
        kind=kind,
        message=str(finding["message"])[:500],
        reason=reason[:1000],
        decided_by=actor,
        decided_at=timezone.now(),
    )
    _record(
        actor,
        "create",
        row,
        session.patient,
        f"{'Override' if kind == DecisionKind.OVERRIDE else 'Acknowledged'} {finding['rule_id']}"
        f" on session {session.pk}",
        {"rule_id": [None, finding["rule_id"]], "kind": [None, kind], "reason": [None, reason]},
    )
    return row


SESSION_FIELDS = [
    "performed_at",
    "consent_obtained",
    "medication_guide_offered",
    "diluent",
    "note",
]


@transaction.atomic(durable=True)
def update_session(
    *, actor: User, session: TreatmentSession, override_reason: str = "", **fields: Any
) -> TreatmentSession:
    locked = _lock_draft(session, actor, Perm.SESSION_CHART)
    unknown = set(fields) - set(SESSION_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    before = audit.snapshot(locked, SESSION_FIELDS)
    for key, value in fields.items():
        setattr(locked, key, value)
    if "performed_at" in fields:
        if locked.performed_at > timezone.now() + timedelta(days=1):
            raise ValidationError({"performed_at": ["A session cannot be charted ahead of time."]})
        vials = session_vials(locked)
        if any(v.reconstituted_at and v.reconstituted_at > locked.performed_at for v in vials):
            raise ValidationError(
                {"performed_at": ["The session cannot be before a vial's reconstitution."]}
            )
        _guard(
            actor=actor,
            session=locked,
            injections=list(locked.injections.all()),
            vials=vials,
            override_reason=override_reason,
        )
    locked.full_clean(exclude=["findings", "totals"])
    changes = audit.diff(before, audit.snapshot(locked, SESSION_FIELDS))
    if changes:
        locked.save()
        _record(actor, "update", locked, locked.patient, "Updated session details", changes)
    return locked


@transaction.atomic(durable=True)
def update_injection(
    *,
    actor: User,
    injection: Injection,
    units: Decimal | None = None,
    status: str | None = None,
    override_reason: str = "",
) -> Injection:
    locked = _lock_draft(injection.session, actor, Perm.SESSION_CHART)
    injections = list(locked.injections.all())
    target = next((i for i in injections if i.pk == injection.pk), None)
    if target is None:
        raise ValidationError({"injection": ["This site is not part of the session."]})
    errors: dict[str, list[str]] = {}
    if units is not None and not Decimal(0) < units <= Decimal(1000):
        errors["units"] = ["Enter the units given at this site (more than 0)."]
    if status is not None and status not in InjectionStatus.values:
        errors["status"] = ["Choose done or skipped."]
    if errors:
        raise ValidationError(errors)
    before = {"units": target.units, "status": target.status}
    if units is not None:
        target.units = units
    if status is not None:
        target.status = status
    changes = audit.diff(before, {"units": target.units, "status": target.status})
    if not changes:
        return target
    _guard(
        actor=actor,
        session=locked,
        injections=injections,
        vials=session_vials(locked),
        override_reason=override_reason,
    )
    target.save(update_fields=["units", "status"])
    _record(
        actor,
        "update",
        target,
        locked.patient,
        f"Site {target.muscle} ({target.side}) on session {locked.pk}",
        changes,
    )
    return target


@transaction.atomic(durable=True)
def add_injection(
    *,
    actor: User,
    session: TreatmentSession,
    muscle: str,
    side: str,
    units: Decimal | None = None,
    sites: int = 1,
    override_reason: str = "",
) -> Injection:
    """A follow-the-pain (or other) addition to a draft session."""
    locked = _lock_draft(session, actor, Perm.SESSION_CHART)
    errors = _valid_muscle(muscle, side)
    units = units if units is not None else facts.units_per_site() * sites
    if not Decimal(0) < units <= Decimal(1000):
        errors["units"] = ["Enter the units (more than 0)."]
    if not 1 <= sites <= 100:
        errors["sites"] = ["Enter 1 to 100 sites."]
    injections = list(locked.injections.all())
    if sum(1 for i in injections if i.follow_the_pain) >= MAX_FTP_ADDITIONS:
        errors["muscle"] = ["Too many additions on one session."]
    if errors:
        raise ValidationError(errors)
    row = Injection(
        session=locked,
        muscle=muscle,
        side=side,
        sites=sites,
        units=units,
        follow_the_pain=True,
        position=max((i.position for i in injections), default=0) + 1,
    )
    _guard(
        actor=actor,
        session=locked,
        injections=[*injections, row],
        vials=session_vials(locked),
        override_reason=override_reason,
    )
    row.save()
    _record(
        actor,
        "create",
        row,
        locked.patient,
        f"Added {units} U at {muscle} ({side}) on session {locked.pk}",
        {"muscle": [None, muscle], "side": [None, side], "units": [None, units]},
    )
    return row


@transaction.atomic(durable=True)
def remove_injection(*, actor: User, injection: Injection) -> None:
    """Remove a follow-the-pain addition (template sites are skipped, never removed)."""
    locked = _lock_draft(injection.session, actor, Perm.SESSION_CHART)
    row = Injection.objects.filter(pk=injection.pk, session=locked).first()
    if row is None:
        raise ValidationError({"injection": ["This site is not part of the session."]})
    if not row.follow_the_pain:
        raise ValidationError({"injection": ["Template sites are marked skipped, not removed."]})
    rest = [i for i in locked.injections.all() if i.pk != row.pk]
    _guard(actor=actor, session=locked, injections=rest, vials=session_vials(locked))
    _record(
        actor,
        "delete",
        row,
        locked.patient,
        f"Removed addition {row.muscle} ({row.side}) from session {locked.pk}",
        {"units": [row.units, None]},
    )
    row.delete()


@transaction.atomic(durable=True)
def open_vial(
    *,
    actor: User,
    session: TreatmentSession,
    vial: Vial,
    diluent_ml: Decimal,
    reconstituted_at: datetime,
    override_reason: str = "",
) -> Vial:
    """Pick a stocked vial for this session and record its dilution and reconstitution time.

    On a draft amendment the vial is opened for the amendment (``vial.session``); the amended
    session's vials stay as recorded until the amendment is signed, which settles them all again.
    """
    locked = _lock_draft(session, actor, Perm.SESSION_CHART)
    locked_vial = Vial.objects.select_for_update().select_related("lot").get(pk=vial.pk)
    if reconstituted_at > locked.performed_at:
        raise ValidationError(
            {"reconstituted_at": ["Reconstitution must be before the injections."]}
        )
    vials = session_vials(locked)
    inventory.open_vial(
        vial=locked_vial,
        session=locked,
        actor=actor,
        diluent_ml=diluent_ml,
        reconstituted_at=reconstituted_at,
    )
    _guard(
        actor=actor,
        session=locked,
        injections=list(locked.injections.all()),
        vials=[*vials, locked_vial],
        override_reason=override_reason,
    )
    _record(
        actor,
        "update",
        locked_vial,
        locked.patient,
        f"Opened vial {locked_vial.pk} (lot {locked_vial.lot.lot_number}) for session {locked.pk}",
        {
            "status": ["in_stock", locked_vial.status],
            "diluent_ml": [None, diluent_ml],
            "reconstituted_at": [None, reconstituted_at],
            "session": [None, locked.pk],
        },
    )
    return locked_vial


def current_findings(session: TreatmentSession) -> dict[str, Any]:
    """Stored findings for a signed session; a fresh dose-check for a draft."""
    if session.status != SessionStatus.DRAFT:
        return {
            "findings": session.findings,
            "totals": session.totals,
            "rule_set": session.rule_set,
        }
    return facts.run_dose_check(session, list(session.injections.all()), session_vials(session))


def warning_text(findings: Iterable[dict[str, Any]], rule_id: str) -> str:
    """What an acknowledgement of ``rule_id`` acknowledges: its current warning messages.

    One rule can warn several times (each PREEMPT muscle short of sites); the acknowledgement
    stores them all, so a changed or an added warning of the same rule is not covered by it.
    """
    text = "; ".join(
        sorted(
            str(f["message"])
            for f in findings
            if f["rule_id"] == rule_id and f["severity"] == "warn"
        )
    )
    if len(text) <= 500:
        return text
    return text[:480] + "… #" + hashlib.sha256(text.encode()).hexdigest()[:16]


def decision_covers(
    decision: FindingDecision, finding: dict[str, Any], findings: Iterable[dict[str, Any]]
) -> bool:
    """A decision counts for a finding only while the finding still says what was decided.

    An override covers its rule's blocks (an edit creating a new block is refused anyway). An
    acknowledgement covers its rule's warnings only while they read as when acknowledged: after
    an edit that changes them (other units, other sites) they must be acknowledged again.
    """
    if decision.rule_id != finding["rule_id"]:
        return False
    if decision.kind == DecisionKind.OVERRIDE:
        return True
    return decision.message == warning_text(findings, finding["rule_id"])


@transaction.atomic(durable=True)
def decide_finding(
    *,
    actor: User,
    session: TreatmentSession,
    rule_id: str,
    reason: str = "",
    acknowledged: bool = True,
) -> FindingDecision:
    """Override a current block (physician, with a reason) or acknowledge a current warning.

    ``acknowledged`` is the explicit "I have read this warning" of the screen: a warning is
    acknowledged only when it is true. An acknowledgement whose warning text changed since is
    renewed (same row, new text, actor and time; audited).
    """
    locked = _lock_draft(session, actor, Perm.SESSION_CHART)
    result = current_findings(locked)
    finding = next(
        (f for f in result["findings"] if f["rule_id"] == rule_id and f["severity"] != "info"), None
    )
    if finding is None:
        raise ValidationError({"rule_id": ["This finding is not on the session (any more)."]})
    if finding["severity"] == "block":
        _require(actor, Perm.SESSION_OVERRIDE_BLOCK, locked.patient.clinic_id)
        if rule_id == "INPUT":
            raise ValidationError({"rule_id": ["Correct the charting; this cannot be overridden."]})
        if not reason.strip():
            raise ValidationError({"reason": ["Write the reason for the override."]})
        kind = DecisionKind.OVERRIDE
    else:
        kind = DecisionKind.ACKNOWLEDGE
        if not acknowledged:
            raise ValidationError({"ack": ["Tick “I have read this warning” to acknowledge it."]})
    existing = FindingDecision.objects.filter(session=locked, rule_id=rule_id, kind=kind).first()
    if existing is not None:
        if decision_covers(existing, finding, result["findings"]):
            raise Conflict("This finding is already decided.", field="rule_id")
        before = existing.message
        existing.message = warning_text(result["findings"], rule_id)
        existing.decided_by = actor
        existing.decided_at = timezone.now()
        existing.save(update_fields=["message", "decided_by", "decided_at"])
        _record(
            actor,
            "update",
            existing,
            locked.patient,
            f"Acknowledged {rule_id} again (the warning changed) on session {locked.pk}",
            {"message": [before, existing.message]},
        )
        return existing
    if kind == DecisionKind.ACKNOWLEDGE:
        finding = {**finding, "message": warning_text(result["findings"], rule_id)}
    return _decide(actor, locked, finding, kind, reason.strip())


def missing_for_signature(
    session: TreatmentSession,
    result: dict[str, Any],
    decisions: list[FindingDecision],
    vials: list[Vial],
) -> dict[str, list[str]]:
    """What still stands between the draft and its signature, from the server's own dose-check.

    Every current block needs an override row and every current warning an acknowledgement row
    *on this session* whose text is the warning as it reads now (see ``decision_covers``).
    """
    errors: dict[str, list[str]] = {}
    for f in result["findings"]:
        if f["severity"] == "block" and not any(
            d.kind == DecisionKind.OVERRIDE and decision_covers(d, f, result["findings"])
            for d in decisions
        ):
            errors.setdefault("findings", []).append(
                f"{f['rule_id']}: needs a physician override with a reason."
            )
        if f["severity"] == "warn" and not any(
            d.kind == DecisionKind.ACKNOWLEDGE and decision_covers(d, f, result["findings"])
            for d in decisions
        ):
            errors.setdefault("findings", []).append(f"{f['rule_id']}: acknowledge this warning.")
    if not session.consent_obtained:
        errors["consent_obtained"] = ["Record the patient's consent before signing."]
    units = sum(
        (i.units for i in session.injections.all() if i.status == InjectionStatus.DONE), Decimal(0)
    )
    if units <= 0:
        errors["injections"] = ["No site is marked done."]
    if not vials:
        errors["vials"] = ["Pick the vial(s) used: lot and expiry must be on the record."]
    elif units > sum(Decimal(v.lot.size_units) for v in vials):
        errors["vials"] = ["The units given exceed the vials opened."]
    return errors


@transaction.atomic(durable=True)
def sign_session(*, actor: User, session: TreatmentSession) -> TreatmentSession:
    locked = _lock_draft(session, actor, Perm.SESSION_SIGN)
    vials = session_vials(locked)
    injections = list(locked.injections.all())
    result = facts.run_dose_check(locked, injections, vials)
    decisions = list(locked.decisions.all())
    errors = missing_for_signature(locked, result, decisions, vials)
    if errors:
        raise ValidationError(errors)
    units = sum((i.units for i in injections if i.status == InjectionStatus.DONE), Decimal(0))
    before = {v.pk: (v.status, _u(v.units_used), _u(v.units_wasted)) for v in vials}
    settled = inventory.settle_vials(vials=vials, units_given=units)
    if locked.amends_id:
        _record_resettled(actor, locked, settled, before)
    locked.findings = result["findings"]
    locked.totals = result.get("totals", {})
    locked.rule_set = ",".join(result.get("rule_sets") or [result.get("rule_set", "")])
    locked.status = SessionStatus.SIGNED
    locked.signed_at = timezone.now()
    locked.signed_by = actor
    locked.save()
    if locked.amends_id:
        TreatmentSession.objects.filter(pk=locked.amends_id, status=SessionStatus.SIGNED).update(
            status=SessionStatus.AMENDED
        )
    else:
        queue_checkin_reminder(locked)
    _record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Signed {'amendment' if locked.amends_id else 'session'} {locked.pk}: {units} U",
        {
            "status": ["draft", "signed"],
            "units": [None, units],
            "rule_set": [None, locked.rule_set],
            "findings": [None, [f["rule_id"] for f in locked.findings]],
            "vials": [None, [[v.pk, str(used), str(waste)] for v, used, waste in settled]],
        },
    )
    return locked


def _u(units: Decimal) -> str:
    return str(Decimal(units).quantize(Decimal("0.01")))


def _record_resettled(
    actor: User,
    amendment: TreatmentSession,
    settled: list[tuple[Vial, Decimal, Decimal]],
    before: dict[int, tuple[str, str, str]],
) -> None:
    """Audit each vial whose use or waste the signed amendment changed (before -> after)."""
    for vial, used, waste in settled:
        status, used_before, waste_before = before[vial.pk]
        changes = audit.diff(
            {"status": status, "units_used": used_before, "units_wasted": waste_before},
            {"status": vial.status, "units_used": _u(used), "units_wasted": _u(waste)},
        )
        if changes:
            _record(
                actor,
                "update",
                vial,
                amendment.patient,
                f"Vial {vial.pk} settled again by amendment {amendment.pk}: {used} U used,"
                f" {waste} U wasted",
                changes,
            )


@transaction.atomic(durable=True)
def amend_session(*, actor: User, session: TreatmentSession, reason: str) -> TreatmentSession:
    """A draft correction of a signed session, starting as a copy of it."""
    original = (
        TreatmentSession.objects.select_for_update().select_related("patient").get(pk=session.pk)
    )
    _require(actor, Perm.SESSION_SIGN, original.patient.clinic_id)
    if original.status != SessionStatus.SIGNED:
        raise Conflict("Only a signed, current session can be amended.")
    if not reason.strip():
        raise ValidationError({"reason": ["Say what the amendment corrects."]})
    if TreatmentSession.objects.filter(amends=original, status=SessionStatus.DRAFT).exists():
        raise Conflict("A draft amendment of this session already exists.")
    copy = TreatmentSession.objects.create(
        patient=original.patient,
        clinic_id=original.clinic_id,
        indication=original.indication,
        product=original.product,
        performed_at=original.performed_at,
        plan=original.plan,
        amends=original,
        amendment_reason=reason.strip(),
        consent_obtained=original.consent_obtained,
        medication_guide_offered=original.medication_guide_offered,
        diluent=original.diluent,
        note=original.note,
        created_by=actor,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=copy,
                muscle=i.muscle,
                side=i.side,
                sites=i.sites,
                units=i.units,
                status=i.status,
                follow_the_pain=i.follow_the_pain,
                position=i.position,
            )
            for i in original.injections.all()
        ]
    )
    FindingDecision.objects.bulk_create(
        [
            FindingDecision(
                session=copy,
                rule_id=d.rule_id,
                severity=d.severity,
                kind=d.kind,
                message=d.message,
                reason=d.reason,
                decided_by_id=d.decided_by_id,
                decided_at=d.decided_at,
            )
            for d in original.decisions.all()
        ]
    )
    _record(
        actor,
        "create",
        copy,
        original.patient,
        f"Amendment of session {original.pk}",
        {"amends": [None, original.pk], "reason": [None, reason.strip()]},
    )
    return copy


# ---- cycles and follow-up ---------------------------------------------------------------------


def next_due(session: TreatmentSession) -> date:
    local = timezone.localtime(session.performed_at, facts._zone(session.clinic.time_zone))
    return local.date() + timedelta(days=facts.retreatment_interval_days(session.indication))


def checkin_window(session: TreatmentSession) -> tuple[date, date]:
    local = timezone.localtime(session.performed_at, facts._zone(session.clinic.time_zone)).date()
    return local + timedelta(days=CHECKIN_OPENS_DAYS), local + timedelta(days=CHECKIN_CLOSES_DAYS)


def checkin_reminder_at(session: TreatmentSession) -> datetime:
    """When the check-in email goes out: the morning the check-in window opens (clinic time)."""
    opens, _ = checkin_window(session)
    zone = facts._zone(session.clinic.time_zone)
    return datetime.combine(opens, time(CHECKIN_REMINDER_HOUR), tzinfo=zone)


def queue_checkin_reminder(session: TreatmentSession) -> Any:
    """Queue the portal check-in email in the caller's transaction (once per session).

    Nothing is queued when the patient has no email or the window has already closed (a session
    charted late); a window already open sends at once.
    """
    from django.conf import settings
    from django.urls import reverse

    from bontrack.core.messaging.outbox import enqueue_message

    patient = session.patient
    opens, closes = checkin_window(session)
    zone = facts._zone(session.clinic.time_zone)
    if not patient.email or timezone.localdate(timezone.now(), zone) > closes:
        return None
    url = settings.PUBLIC_BASE_URL + reverse("treatments:checkin", args=[session.pk])
    return enqueue_message(
        channel="email",
        to=patient.email,
        subject="How are you after your treatment?",
        body=(
            f"Hello {patient.preferred_name or patient.first_name},\n\n"
            "Please tell us how you have been since your botulinum toxin treatment: "
            "a drooping eyelid, neck pain or weakness, trouble swallowing or anything else. "
            f"The check-in is open from {opens:%A %d %B} to {closes:%A %d %B}:\n{url}\n\n"
            "If you have trouble swallowing, speaking or breathing, call for help at once: "
            "do not wait for the check-in.\n\n"
            f"{session.clinic.name}"
        ),
        dedupe_key=f"checkin:{session.pk}",
        send_after=max(checkin_reminder_at(session), timezone.now()),
        patient=patient,
        topic=f"checkin:{session.pk}",
    )


@transaction.atomic(durable=True)
def record_adverse_effect(
    *, actor: User, session: TreatmentSession, kind: str, detail: str = ""
) -> AdverseEffect:
    """Staff record an adverse effect reported in clinic or by phone."""
    locked = TreatmentSession.objects.select_related("patient").get(pk=session.pk)
    _require(actor, Perm.SESSION_CHART, locked.patient.clinic_id)
    if locked.status == SessionStatus.DRAFT:
        raise ValidationError({"session": ["Adverse effects follow a signed session."]})
    row = _new_effect(locked, kind, detail, Reporter.STAFF, actor)
    _record(
        actor,
        "create",
        row,
        locked.patient,
        f"Adverse effect {kind} after session {locked.pk}",
        {"kind": [None, kind], "detail": [None, detail]},
    )
    return row


def _new_effect(
    session: TreatmentSession, kind: str, detail: str, reporter: str, actor: User
) -> AdverseEffect:
    if kind not in AdverseEffectKind.values:
        raise ValidationError({"kind": ["Choose an effect from the list."]})
    if kind == AdverseEffectKind.OTHER and not detail.strip():
        raise ValidationError({"detail": ["Describe the effect."]})
    return AdverseEffect.objects.create(
        patient=session.patient,
        session=session,
        kind=kind,
        detail=detail.strip()[:2000],
        reported_at=timezone.now(),
        reported_by=reporter,
        reporter=actor,
    )


def open_checkins(patient: Patient, today: date) -> list[TreatmentSession]:
    """Signed sessions whose check-in window is open and not yet answered."""
    earliest = timezone.now() - timedelta(days=CHECKIN_CLOSES_DAYS + 1)
    sessions = (
        TreatmentSession.objects.filter(
            patient=patient,
            status=SessionStatus.SIGNED,
            performed_at__gte=earliest,
            checkin__isnull=True,
        )
        .exclude(amends__checkin__isnull=False)
        .select_related("clinic")
        .order_by("performed_at")
    )
    out = []
    for s in sessions:
        opens, closes = checkin_window(s)
        if opens <= today <= closes:
            out.append(s)
    return out


@transaction.atomic(durable=True)
def submit_checkin(
    *,
    actor: User,
    patient: Patient,
    session: TreatmentSession,
    kinds: Iterable[str],
    other_detail: str = "",
    comment: str = "",
) -> CheckIn:
    """The patient's follow-up answers: one adverse effect row per problem reported."""
    account = getattr(actor, "portal_account", None)
    if account is None or account.patient_id != patient.pk or session.patient_id != patient.pk:
        raise PermissionDenied("Only the patient can answer their check-in.")
    if session.status != SessionStatus.SIGNED:
        raise ValidationError({"session": ["This session has no check-in."]})
    opens, closes = checkin_window(session)
    today = timezone.localdate(timezone.now(), facts._zone(session.clinic.time_zone))
    if not opens <= today <= closes:
        raise ValidationError(
            {"session": [f"The check-in is open from {opens:%b %d} to {closes:%b %d}."]}
        )
    if CheckIn.objects.filter(session=session).exists():
        raise Conflict("You already answered this check-in. Call the clinic to add something.")
    kinds = sorted(set(kinds))
    if any(k not in AdverseEffectKind.values for k in kinds):
        raise ValidationError({"kinds": ["Choose from the list."]})
    checkin = CheckIn.objects.create(
        session=session,
        patient=patient,
        submitted_at=timezone.now(),
        none_reported=not kinds,
        comment=comment.strip()[:2000],
    )
    for kind in kinds:
        _new_effect(
            session,
            kind,
            other_detail if kind == AdverseEffectKind.OTHER else "",
            Reporter.PATIENT,
            actor,
        )
    _record(
        actor,
        "create",
        checkin,
        patient,
        f"Check-in after session {session.pk}: {', '.join(kinds) or 'no problems'}",
        {"kinds": [None, kinds], "comment": [None, comment.strip()]},
    )
    return checkin


@transaction.atomic(durable=True)
def resolve_adverse_effect(
    *, actor: User, effect: AdverseEffect, resolution: str = ""
) -> AdverseEffect:
    locked = AdverseEffect.objects.select_for_update().select_related("patient").get(pk=effect.pk)
    _require(actor, Perm.SESSION_CHART, locked.patient.clinic_id)
    if locked.status != AdverseEffectStatus.OPEN:
        raise Conflict("This adverse effect is already resolved.")
    locked.status = AdverseEffectStatus.RESOLVED
    locked.resolved_at = timezone.now()
    locked.resolved_by = actor
    locked.resolution = resolution.strip()[:1000]
    locked.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    _record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Resolved adverse effect {locked.kind}",
        {"status": ["open", "resolved"], "resolution": [None, locked.resolution]},
    )
    return locked


# ---- response review ------------------------------------------------------------------------


def signed_cycles(patient: Patient) -> int:
    return TreatmentSession.objects.filter(
        patient=patient, status=SessionStatus.SIGNED, indication="chronic_migraine"
    ).count()


@transaction.atomic(durable=True)
def record_response_review(
    *,
    actor: User,
    patient: Patient,
    decision: str,
    reason: str = "",
    adjustments: Iterable[dict[str, Any]] = (),
    as_of: date | None = None,
) -> ResponseReview:
    """After the second cycle: continue, adjust (what and why) or stop, with the response result."""
    _require(actor, Perm.RESPONSE_REVIEW, patient.clinic_id)
    as_of = as_of or timezone.localdate()
    adjustments = list(adjustments)
    errors: dict[str, list[str]] = {}
    if decision not in ReviewDecision.values:
        errors["decision"] = ["Choose continue, adjust or stop."]
    if decision == ReviewDecision.ADJUST:
        if not reason.strip():
            errors["reason"] = ["Say what is adjusted and why."]
        if not adjustments:
            errors["adjustments"] = ["List the sites to change."]
    elif adjustments:
        errors["adjustments"] = ["Only an adjustment changes the plan."]
    if decision == ReviewDecision.STOP and not reason.strip():
        errors["reason"] = ["Say why treatment stops."]
    cycles = signed_cycles(patient)
    min_cycles = facts.review_min_cycles()
    if cycles < min_cycles:
        errors["decision"] = [f"The review comes after cycle {min_cycles}; {cycles} signed so far."]
    if errors:
        raise ValidationError(errors)
    lines_in = [
        Line(a["muscle"], a["side"], int(a["sites"]), Decimal(str(a["units"])))
        for a in adjustments
        if int(a.get("sites", 0)) > 0
    ]
    _validate_lines(lines_in, "adjustments")
    result = facts.run_response(patient, as_of)
    if result is None or "error" in result:
        raise ValidationError({"as_of": ["No response can be computed for this date."]})
    cycles_out = result.get("cycles") or []
    recommendation = cycles_out[-1].get("recommendation", "") if cycles_out else ""
    review = ResponseReview.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        decision=decision,
        reason=reason.strip(),
        adjustments=[
            {
                "muscle": a["muscle"],
                "side": a["side"],
                "sites": int(a["sites"]),
                "units": float(a["units"]),
            }
            for a in adjustments
        ],
        cycles=cycles,
        as_of=as_of,
        response_rule_set=str(result.get("response_rule_set", "")),
        rule_set=",".join(result.get("rule_sets") or [str(result.get("rule_set", ""))]),
        recommendation=str(recommendation),
        result=result,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
    )
    _record(
        actor,
        "create",
        review,
        patient,
        f"Response review after {cycles} cycles: {decision} (rules say {recommendation})",
        {
            "decision": [None, decision],
            "reason": [None, reason.strip()],
            "recommendation": [None, recommendation],
            "adjustments": [None, review.adjustments],
        },
    )
    last = active_plan(patient)
    if decision == ReviewDecision.ADJUST:
        base = plan_lines(last) if last else template_lines()
        _new_plan(
            actor=actor,
            patient=patient,
            lines=apply_adjustments(base, review.adjustments),
            based_on=last,
            review=review,
            note=f"Adjusted after response review: {reason.strip()}"[:1000],
        )
    elif decision == ReviewDecision.STOP and last is not None:
        TreatmentPlan.objects.filter(pk=last.pk).update(active=False)
        _record(
            actor,
            "update",
            last,
            patient,
            "Plan closed: treatment stopped",
            {"active": [True, False]},
        )
    return review


def record_view(*, actor: User, patient: Patient, what: str) -> None:
    with transaction.atomic():
        audit.record(actor=actor, action="view", obj=patient, summary=f"Viewed {what}")


def scope_has(actor: User, perm: str, clinic_id: int) -> bool:
    return actor.has_clinic_perm(perm, clinic_id)
