"""Booking a treatment for a patient with active chronic migraine assigns the pre-treatment
questionnaires (diaries app) for that day, in the booking's transaction, whatever the channel."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from bontrack.audit.models import AuditEvent
from bontrack.diaries.models import QuestionnaireResponse
from bontrack.patients.models import Condition
from bontrack.scheduling.actions import booking, changes
from bontrack.scheduling.tests.conftest import NOW

pytestmark = pytest.mark.django_db
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)  # 10:00 in New York, Tuesday 2 June


def _migraine(patient, active=True):
    return Condition.objects.create(
        patient=patient, indication="chronic_migraine", icd10_code="G43.709", active=active
    )


def _assigned(patient):
    return set(
        QuestionnaireResponse.objects.filter(
            patient=patient, assigned_for="pre_treatment"
        ).values_list("instrument", "due_date")
    )


def _book(sched, code="treatment", **kw):
    return booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type(code),
        starts_at=TEN,
        **kw,
    )


@time_machine.travel(NOW, tick=False)
def test_a_staff_booking_assigns_midas_and_hit6_for_the_treatment_day(sched):
    _migraine(sched.world.patient)
    _book(sched, indication="chronic_migraine")
    assert _assigned(sched.world.patient) == {
        ("midas", date(2026, 6, 2)),
        ("hit6", date(2026, 6, 2)),
    }
    assert (
        AuditEvent.objects.filter(
            object_type="diaries.questionnaireresponse", action="create"
        ).count()
        == 2
    )


@time_machine.travel(NOW, tick=False)
def test_an_api_booking_assigns_them_too(sched):
    _migraine(sched.world.patient)
    response = sched.world.client("nurse").post(
        "/api/v1/scheduling/appointments",
        json.dumps(
            {
                "patient_id": sched.world.patient.pk,
                "type_id": sched.type("treatment").pk,
                "starts_at": TEN.isoformat(),
                "indication": "chronic_migraine",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert len(_assigned(sched.world.patient)) == 2


@time_machine.travel(NOW, tick=False)
def test_moving_the_treatment_assigns_them_for_the_new_day(sched):
    _migraine(sched.world.patient)
    appointment = _book(sched, indication="chronic_migraine")
    changes.reschedule_appointment(
        actor=sched.world.users["front_desk"],
        appointment=appointment,
        starts_at=datetime(2026, 6, 4, 14, tzinfo=UTC),
    )
    assert {d for _, d in _assigned(sched.world.patient)} == {date(2026, 6, 2), date(2026, 6, 4)}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("case", ["consultation", "no condition", "inactive condition"])
def test_nothing_is_assigned_for_a_consultation_or_without_active_chronic_migraine(sched, case):
    if case == "consultation":
        _migraine(sched.world.patient)
        _book(sched, code="consult")
    else:
        if case == "inactive condition":
            _migraine(sched.world.patient, active=False)
        _book(sched, indication="chronic_migraine")
    assert _assigned(sched.world.patient) == set()


@time_machine.travel(NOW, tick=False)
def test_a_refused_booking_assigns_nothing(sched):
    _migraine(sched.world.patient)
    from bontrack.scheduling.tests.test_recall_and_interval import _signed

    _signed(
        sched.world.patient, datetime(2026, 5, 1, 15, tzinfo=UTC), sched.world.users["physician"]
    )
    with pytest.raises(ValidationError):
        _book(sched, indication="chronic_migraine")  # before the minimum interval
    assert _assigned(sched.world.patient) == set()
