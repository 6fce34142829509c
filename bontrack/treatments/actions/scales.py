"""Outcome scales per indication and the wearing-off date of a session (staff and portal)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.patients.models import Patient
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.actions.cycle_review import session_indications, store_suggestions
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.facts import scales as facts
from bontrack.treatments.models import ScaleEntry, TreatmentSession, WearingOff

EARLIEST = date(1900, 1, 1)


def is_patient_self(actor: User, patient: Patient) -> bool:
    account = getattr(actor, "portal_account", None)
    return account is not None and account.patient_id == patient.pk


def _actor_is_patient(actor: User, patient: Patient, perm: str) -> bool:
    """True for the patient themself; staff need ``perm`` in the patient's clinic."""
    if is_patient_self(actor, patient):
        return True
    if getattr(actor, "is_staff_member", False):
        _require(actor, perm, patient.clinic_id)
        return False
    raise PermissionDenied("Only the patient or their clinicians can do this.")


def _errors_from(exc: facts.InputError) -> ValidationError:
    out: dict[str, list[str]] = {}
    for key, messages in exc.errors.items():
        name = key.removeprefix("answers.") if key.startswith("answers.") else "answers"
        out.setdefault(name.replace(".", "_"), []).extend(messages)
    return ValidationError(out)


def save_scale_entry(
    *,
    actor: User,
    patient: Patient,
    indication: str,
    instrument: str,
    taken_on: date,
    answers: Mapping[str, Any],
) -> ScaleEntry:
    """A scale rated on ``taken_on``: staff rate every scale, the patient the patient-reported ones."""
    by_patient = _actor_is_patient(actor, patient, Perm.SESSION_CHART)
    errors: dict[str, list[str]] = {}
    if instrument not in facts.instruments_for(indication):
        errors["instrument"] = ["This scale is not used for that condition."]
    reported = facts.patient_reported()
    if by_patient:
        if instrument not in reported:
            errors["instrument"] = ["Your care team rates this scale at the visit."]
        elif reported[instrument]:
            # A subscale the patient reports, as its total or as its items (``<subscale>_items``).
            answers = {
                k: v
                for k, v in answers.items()
                if k in reported[instrument] or k.removesuffix("_items") in reported[instrument]
            }
    today = timezone.localdate()
    if taken_on > today:
        errors["taken_on"] = ["The date cannot be in the future."]
    elif taken_on < EARLIEST:
        errors["taken_on"] = ["Enter a date after 1900."]
    if errors:
        raise ValidationError(errors)
    try:
        result = facts.score(instrument, answers)
    except facts.InputError as exc:
        raise _errors_from(exc) from exc
    if not result.get("valid", True):
        raise ValidationError({"answers": [str(result.get("message") or "Not a valid rating.")]})
    value = result.get("score")
    entry = ScaleEntry.objects.create(
        patient=patient,
        clinic_id=patient.clinic_id,
        indication=indication,
        instrument=instrument,
        taken_on=taken_on,
        answers=dict(answers),
        score=Decimal(str(value)) if isinstance(value, int | float) else None,
        result=result,
        rule_set=str(result.get("rule_set", ""))[:60],
        entered_by_patient=by_patient,
        entered_by=actor,
    )
    audit_record(
        actor,
        "create",
        entry,
        patient,
        f"{facts.LABELS[instrument]} recorded for {taken_on.isoformat()}"
        + (" by the patient" if by_patient else ""),
        {
            "instrument": [None, instrument],
            "indication": [None, indication],
            "taken_on": [None, taken_on],
            "score": [None, entry.score],
        },
    )
    store_suggestions(actor=actor, patient=patient, indications=[indication])
    return entry


def save_wearing_off(*, actor: User, session: TreatmentSession, worn_off_on: date) -> WearingOff:
    """The date the session's effect wore off, as the patient reports it (portal or staff)."""
    patient = session.patient
    by_patient = _actor_is_patient(actor, patient, Perm.SESSION_CHART)
    if session.status not in GIVEN_STATUSES:
        raise ValidationError({"worn_off_on": ["Only a given session has an effect to wear off."]})
    given_on = timezone.localtime(session.performed_at).date()
    if worn_off_on < given_on:
        raise ValidationError({"worn_off_on": ["The effect cannot wear off before the session."]})
    if worn_off_on > timezone.localdate():
        raise ValidationError({"worn_off_on": ["The date cannot be in the future."]})
    row = WearingOff.objects.select_for_update().filter(session=session).first()
    before = row.worn_off_on if row else None
    if row is None:
        row = WearingOff(session=session, patient=patient)
    row.worn_off_on = worn_off_on
    row.reported_by_patient = by_patient
    row.reporter = actor
    row.recorded_at = timezone.now()
    row.save()
    audit_record(
        actor,
        "update" if before else "create",
        row,
        patient,
        f"Effect of the session on {given_on.isoformat()} wore off on {worn_off_on.isoformat()}"
        + (" (reported by the patient)" if by_patient else ""),
        {"worn_off_on": [before, worn_off_on]},
    )
    store_suggestions(actor=actor, patient=patient, indications=session_indications(session))
    return row


# One transaction each for views and the API; the ``save_*`` bodies join a caller's (demo seed).
record_scale_entry = transaction.atomic(durable=True)(save_scale_entry)
record_wearing_off = transaction.atomic(durable=True)(save_wearing_off)
