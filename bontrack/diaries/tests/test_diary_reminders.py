"""The daily reminder email goes through the outbox to patients in the program who have not logged."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from bontrack.diaries import services
from bontrack.diaries.models import EligibilityAssessment
from bontrack.scheduling.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_patients_in_the_program_without_todays_entry_get_one_reminder(world, cm_patient):
    from bontrack.patients.models import Condition

    Condition.objects.create(
        patient=world.other_patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    services.save_diary_day(
        actor=world.users["other_patient"],
        patient=world.other_patient,
        data=services.DayInput(date=services.local_today(), headache=False),
    )
    out = StringIO()
    call_command("diary-reminders", stdout=out)
    call_command("diary-reminders", stdout=out)  # again: deduplicated
    messages = OutboxMessage.objects.all()
    assert [m.to for m in messages] == [cm_patient.email]
    assert messages[0].dedupe_key == f"diary-reminder:{cm_patient.pk}:{services.local_today()}"
    assert "1 diary reminder(s) queued" in out.getvalue()


def test_no_reminder_after_a_not_eligible_decision(world, cm_patient):
    services.record_eligibility_decision(
        actor=world.users["physician"],
        patient=cm_patient,
        decision="not_eligible",
        note="Episodic.",
    )
    call_command("diary-reminders", stdout=StringIO())
    assert not OutboxMessage.objects.exists()
    assert EligibilityAssessment.objects.count() == 1
