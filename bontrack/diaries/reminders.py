"""Daily diary reminders: email patients in the program who have not logged the day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery

from bontrack.audit import audit
from bontrack.diaries.models import DiaryDay, EligibilityAssessment
from bontrack.patients.models import Condition, Patient

REMINDER_HOUR = 19  # local time of the clinic: an evening nudge


def candidates(day: date):  # type: ignore[no-untyped-def]
    """Patients in a baseline or treatment period (active chronic migraine condition, active,
    with a portal account and an email, not decided ineligible) without a diary row for ``day``."""
    latest_decision = (
        EligibilityAssessment.objects.filter(patient=OuterRef("pk"))
        .order_by("-decided_at", "-id")
        .values("decision")[:1]
    )
    return (
        Patient.objects.filter(status="active", portal_account__isnull=False)
        .exclude(email="")
        .filter(
            Exists(
                Condition.objects.filter(
                    patient=OuterRef("pk"), indication="chronic_migraine", active=True
                )
            )
        )
        .exclude(Exists(DiaryDay.objects.filter(patient=OuterRef("pk"), date=day)))
        .annotate(last_decision=Subquery(latest_decision))
        .filter(Q(last_decision__isnull=True) | ~Q(last_decision="not_eligible"))
        .select_related("clinic")
        .order_by("id")
    )


def send_reminders(day: date) -> int:
    """Queue one email per patient through the outbox (core.messaging; deduplicated per day)."""
    from bontrack.core.messaging.outbox import enqueue_message

    queued = 0
    with transaction.atomic():
        for patient in candidates(day).iterator(chunk_size=1000):
            tz = ZoneInfo(patient.clinic.time_zone or settings.TIME_ZONE)
            send_after = datetime.combine(day, time(REMINDER_HOUR), tzinfo=tz)
            message = enqueue_message(
                channel="email",
                to=patient.email,
                subject="Your headache diary for today",
                body=(
                    f"Hello {patient.preferred_name or patient.first_name},\n\n"
                    f"Your headache diary for {day:%A %d %B} is not filled in yet. "
                    "It takes a few seconds: sign in to the patient portal and open My headache diary.\n\n"
                    f"{patient.clinic.name}"
                ),
                dedupe_key=f"diary-reminder:{patient.pk}:{day.isoformat()}",
                send_after=send_after,
                patient=patient,
            )
            queued += message is not None
        audit.record(
            actor=None,
            action="remind",
            object_type="diaries.diaryday",
            summary=f"Diary reminders for {day.isoformat()}: {queued} queued",
        )
    return queued
