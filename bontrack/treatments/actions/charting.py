"""Charting a draft session: create it from the plan, edit its details and injection sites.

Each use case is one durable transaction with its audit row(s) inside; the actor's permission is
checked for the patient's clinic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record, lock_draft, muscle_errors
from bontrack.treatments.actions.dose_guard import guard_dose_check
from bontrack.treatments.actions.plans import Line, active_plan, plan_lines, template_lines
from bontrack.treatments.actions.vials import session_vials
from bontrack.treatments.choices import (
    InjectionStatus,
    SessionStatus,
)
from bontrack.treatments.models import (
    Injection,
    TreatmentSession,
)

MAX_FTP_ADDITIONS = 20  # sanity bound on rows added to one session (not a clinical limit)

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
    audit_record(
        actor,
        "create",
        session,
        patient,
        f"Draft session from {'plan ' + str(plan.pk) if plan else 'the PREEMPT template'}",
        {"performed_at": [None, performed_at], "plan": [None, plan.pk if plan else None]},
    )
    return session


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
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
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
        guard_dose_check(
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
        audit_record(actor, "update", locked, locked.patient, "Updated session details", changes)
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
    locked = lock_draft(injection.session, actor, Perm.SESSION_CHART)
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
    guard_dose_check(
        actor=actor,
        session=locked,
        injections=injections,
        vials=session_vials(locked),
        override_reason=override_reason,
    )
    target.save(update_fields=["units", "status"])
    audit_record(
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
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
    errors = muscle_errors(muscle, side)
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
    guard_dose_check(
        actor=actor,
        session=locked,
        injections=[*injections, row],
        vials=session_vials(locked),
        override_reason=override_reason,
    )
    row.save()
    audit_record(
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
    locked = lock_draft(injection.session, actor, Perm.SESSION_CHART)
    row = Injection.objects.filter(pk=injection.pk, session=locked).first()
    if row is None:
        raise ValidationError({"injection": ["This site is not part of the session."]})
    if not row.follow_the_pain:
        raise ValidationError({"injection": ["Template sites are marked skipped, not removed."]})
    rest = [i for i in locked.injections.all() if i.pk != row.pk]
    guard_dose_check(actor=actor, session=locked, injections=rest, vials=session_vials(locked))
    audit_record(
        actor,
        "delete",
        row,
        locked.patient,
        f"Removed addition {row.muscle} ({row.side}) from session {locked.pk}",
        {"units": [row.units, None]},
    )
    row.delete()
