"""The daily reminder email goes through the outbox to patients in the program who have not logged."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from bontrack.core.models import OutboxMessage
from bontrack.diaries.actions import actors, consultation, diary_days
from bontrack.diaries.models import EligibilityAssessment

pytestmark = pytest.mark.django_db


def test_patients_in_the_program_without_todays_entry_get_one_reminder(world, cm_patient):
    from bontrack.patients.models import Condition

    Condition.objects.create(
        patient=world.other_patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    diary_days.save_diary_day(
        actor=world.users["other_patient"],
        patient=world.other_patient,
        data=diary_days.DayInput(date=actors.local_today(), headache=False),
    )
    out = StringIO()
    call_command("diary-reminders", stdout=out)
    call_command("diary-reminders", stdout=out)  # again: deduplicated
    messages = OutboxMessage.objects.all()
    assert [m.to for m in messages] == [cm_patient.email]
    assert messages[0].dedupe_key == f"diary-reminder:{cm_patient.pk}:{actors.local_today()}"
    assert "1 diary reminder(s) queued" in out.getvalue()


def test_no_reminder_after_a_not_eligible_decision(world, cm_patient):
    consultation.record_eligibility_decision(
        actor=world.users["physician"],
        patient=cm_patient,
        decision="not_eligible",
        note="Episodic.",
    )
    call_command("diary-reminders", stdout=StringIO())
    assert not OutboxMessage.objects.exists()
    assert EligibilityAssessment.objects.count() == 1


def test_running_the_command_twice_enqueues_one_reminder(world, cm_patient):
    # Given a patient in the program who has not logged today
    today = actors.local_today()
    first, second = StringIO(), StringIO()
    # When cron runs the command twice the same day (a retry, an overlap)
    call_command("diary-reminders", "--date", today.isoformat(), stdout=first)
    call_command("diary-reminders", "--date", today.isoformat(), stdout=second)
    # Then one email is queued, and the second run says it queued none
    assert OutboxMessage.objects.filter(patient=cm_patient).count() == 1
    assert first.getvalue().startswith("1 diary reminder(s) queued")
    assert second.getvalue().startswith("0 diary reminder(s) queued")
    # And another day is its own reminder
    yesterday = today - timedelta(days=1)
    call_command("diary-reminders", "--date", yesterday.isoformat(), stdout=StringIO())
    keys = sorted(OutboxMessage.objects.values_list("dedupe_key", flat=True))
    assert keys == sorted(
        f"diary-reminder:{cm_patient.pk}:{d.isoformat()}" for d in (today, yesterday)
    )
