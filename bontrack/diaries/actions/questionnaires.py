"""Assigning, scoring and submitting questionnaires (baseline and before a treatment)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.diaries import facts
from bontrack.diaries.actions import actors
from bontrack.diaries.actions.actors import _require_patient_or
from bontrack.diaries.choices import (
    AssignedFor,
    Instrument,
)
from bontrack.diaries.models import (
    QuestionnaireResponse,
)
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.patients.models import Condition, Patient
from bontrack.patients.services import Conflict

# ---- questionnaires -------------------------------------------------------------------------


def has_active_program(patient: Patient) -> bool:
    return Condition.objects.filter(
        patient=patient, indication="chronic_migraine", active=True
    ).exists()


@transaction.atomic(durable=True)
def assign_baseline(patient: Patient, *, actor: User | None = None) -> list[QuestionnaireResponse]:
    """Assign MIDAS and HIT-6 at the start of the chronic migraine program (idempotent)."""
    if not has_active_program(patient):
        return []
    made = []
    for instrument in Instrument.values:
        if QuestionnaireResponse.objects.filter(
            patient=patient, instrument=instrument, assigned_for=AssignedFor.BASELINE
        ).exists():
            continue
        row = QuestionnaireResponse.objects.create(
            patient=patient,
            instrument=instrument,
            assigned_for=AssignedFor.BASELINE,
            due_date=actors.local_today(),
        )
        audit.record(
            actor=actor,
            action="create",
            obj=row,
            clinic_id=patient.clinic_id,
            practice_id=patient.practice_id,
            changes={"instrument": [None, instrument], "assigned_for": [None, "baseline"]},
            summary=f"Assigned baseline {instrument}",
        )
        made.append(row)
    return made


def assign_pre_treatment(
    patient: Patient, due_date: date, *, actor: User | None = None
) -> list[QuestionnaireResponse]:
    """Assign MIDAS and HIT-6 before a treatment on ``due_date`` (idempotent).

    For the scheduling and treatments apps: call when a treatment appointment or session is
    booked. Runs in its own transaction, or joins the caller's when there is one.
    """
    with transaction.atomic():
        made = []
        for instrument in Instrument.values:
            row, created = QuestionnaireResponse.objects.get_or_create(
                patient=patient,
                instrument=instrument,
                assigned_for=AssignedFor.PRE_TREATMENT,
                due_date=due_date,
            )
            if created:
                audit.record(
                    actor=actor,
                    action="create",
                    obj=row,
                    clinic_id=patient.clinic_id,
                    practice_id=patient.practice_id,
                    changes={
                        "instrument": [None, instrument],
                        "assigned_for": [None, "pre_treatment"],
                        "due_date": [None, due_date],
                    },
                    summary=f"Assigned {instrument} before treatment on {due_date.isoformat()}",
                )
                made.append(row)
        return made


def score_answers(instrument: str, answers: dict[str, Any]) -> dict[str, object]:
    try:
        return facts.score_questionnaire(instrument, answers)
    except facts.InputError as exc:
        raise ValidationError(
            {
                (k.removeprefix("answers.") or "answers"): v
                for k, v in exc.errors.items()
                if isinstance(v, list)
            }
        ) from exc


@transaction.atomic(durable=True)
def submit_questionnaire(
    *, actor: User, response: QuestionnaireResponse, answers: dict[str, Any]
) -> QuestionnaireResponse:
    locked = (
        QuestionnaireResponse.objects.select_for_update()
        .select_related("patient")
        .get(pk=response.pk)
    )
    by_patient = _require_patient_or(actor, Perm.DIARY_EDIT, locked.patient)
    if locked.completed_at is not None:
        raise Conflict("This questionnaire has already been answered.")
    result = score_answers(locked.instrument, answers)
    score = result.get("score")
    locked.answers = answers
    locked.result = result
    locked.score = Decimal(str(score)) if isinstance(score, int | float) else None
    locked.band = str(result.get("band") or "")[:120]
    locked.valid = bool(result.get("valid"))
    locked.rule_set = str(result.get("rule_set", ""))[:60]
    locked.completed_at = timezone.now()
    locked.completed_by = actor
    locked.entered_by_staff = not by_patient
    locked.save()
    mark_outcomes(locked.patient_id)
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        clinic_id=locked.patient.clinic_id,
        practice_id=locked.patient.practice_id,
        changes={
            "score": [None, locked.score],
            "band": [None, locked.band],
            "valid": [None, locked.valid],
            "rule_set": [None, locked.rule_set],
            "entered_by_staff": [None, locked.entered_by_staff],
        },
        summary=f"{locked.get_instrument_display()} answered: {locked.score}"
        + (" (entered by staff for the patient)" if locked.entered_by_staff else ""),
    )
    return locked
