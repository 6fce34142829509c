"""The booking API: search, book, 409 for the loser, reschedule, cancel; permission matrix."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.core.models import OutboxMessage
from bontrack.scheduling.models import Appointment
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)

BOOK = permission_matrix(Perm.SCHEDULE_BOOK, ok=201, api=True)
SEARCH = permission_matrix(Perm.SCHEDULE_VIEW, api=True)


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def _counts():
    return (
        Appointment.objects.count(),
        OutboxMessage.objects.count(),
        AuditEvent.objects.exclude(action__in=["view", "search"]).exclude(outcome="denied").count(),
    )


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", BOOK.items())
def test_booking_over_the_api(sched, persona, expected):
    before = _counts()
    response = _post(
        sched.world.client(persona),
        "/api/v1/scheduling/appointments",
        {
            "patient_id": sched.world.patient.pk,
            "type_id": sched.type("consult").pk,
            "starts_at": TEN.isoformat(),
            "clinician_id": sched.world.users["physician"].pk,
        },
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        assert body["status"] == "booked"
        assert AuditEvent.objects.filter(
            action="create", object_type="scheduling.appointment"
        ).exists()
        assert OutboxMessage.objects.filter(dedupe_key__startswith="confirm:").exists()
    else:
        assert _counts() == before


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", SEARCH.items())
def test_searching_availability_over_the_api(sched, persona, expected):
    response = sched.world.client(persona).get(
        f"/api/v1/scheduling/availability?type_id={sched.type('consult').pk}&start=2026-06-02&days=1"
    )
    assert response.status_code == expected
    if expected == 200:
        slots = response.json()
        # 09:00-17:00 EDT, 30 min + 5 min buffer on a 15-minute grid; first at 13:00Z.
        assert slots[0]["starts_at"].startswith("2026-06-02T13:00")
        assert all(s["clinician_id"] == sched.world.users["physician"].pk for s in slots)


@time_machine.travel(NOW, tick=False)
def test_the_loser_of_a_slot_gets_a_clean_409(sched):
    client = sched.world.client("front_desk")
    data = {
        "patient_id": sched.world.patient.pk,
        "type_id": sched.type("consult").pk,
        "starts_at": TEN.isoformat(),
        "clinician_id": sched.world.users["physician"].pk,
    }
    assert _post(client, "/api/v1/scheduling/appointments", data).status_code == 201
    data["patient_id"] = sched.world.other_patient.pk
    response = _post(client, "/api/v1/scheduling/appointments", data)
    assert response.status_code == 409
    assert response.json()["errors"]["starts_at"]


@time_machine.travel(NOW, tick=False)
def test_bad_input_is_a_422_with_field_messages(sched):
    client = sched.world.client("front_desk")
    response = _post(
        client,
        "/api/v1/scheduling/appointments",
        {
            "patient_id": sched.world.patient.pk,
            "type_id": sched.type("consult").pk,
            "starts_at": "2026-06-02T10:00:00",
        },
    )
    assert response.status_code == 422
    assert "starts_at" in response.json()["errors"]
    assert not Appointment.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_reschedule_and_cancel_over_the_api(sched):
    client = sched.world.client("nurse")
    created = _post(
        client,
        "/api/v1/scheduling/appointments",
        {
            "patient_id": sched.world.patient.pk,
            "type_id": sched.type("consult").pk,
            "starts_at": TEN.isoformat(),
        },
    ).json()
    moved = _post(
        client,
        f"/api/v1/scheduling/appointments/{created['id']}/reschedule",
        {"starts_at": "2026-06-02T15:00:00Z"},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["sequence"] == 1
    cancelled = _post(
        client,
        f"/api/v1/scheduling/appointments/{created['id']}/cancel",
        {"reason": "patient_request"},
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = _post(
        client,
        f"/api/v1/scheduling/appointments/{created['id']}/cancel",
        {"reason": "patient_request"},
    )
    assert again.status_code == 409
