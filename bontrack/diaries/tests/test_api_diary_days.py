"""The diary API: bulk upsert by date is idempotent, audited per changed day, strict."""

from __future__ import annotations

import json

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.diaries.models import DiaryDay, DiaryDayRevision

pytestmark = pytest.mark.django_db

BODY = {
    "days": [
        {"date": "2026-01-05", "headache": False},
        {
            "date": "2026-01-06",
            "headache": True,
            "hours": 7.5,
            "severity": 3,
            "unilateral": True,
            "pulsating": True,
            "nausea": True,
            "medications": [
                {"name": "rizatriptan", "doses": 2},
                {"name": "Fioricet", "drug_class": "combination_analgesic"},
            ],
            "triptan_or_ergot_relief": True,
        },
    ]
}


def _put(client, pk, body):
    return client.put(
        f"/api/v1/diaries/patients/{pk}/days", json.dumps(body), content_type="application/json"
    )


def test_the_same_body_twice_gives_the_same_state(world, cm_patient):
    client = world.client("nurse")
    first = _put(client, cm_patient.pk, BODY)
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    second = _put(client, cm_patient.pk, BODY)
    assert second.json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert DiaryDay.objects.filter(patient=cm_patient).count() == 2
    assert AuditEvent.objects.filter(object_type="diaries.diaryday").count() == 2
    assert not DiaryDayRevision.objects.exists()


def test_a_changed_day_gets_one_audit_row_and_a_revision(world, cm_patient):
    client = world.client("nurse")
    _put(client, cm_patient.pk, BODY)
    changed = json.loads(json.dumps(BODY))
    changed["days"][1]["severity"] = 2
    assert _put(client, cm_patient.pk, changed).json() == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
    }
    assert AuditEvent.objects.filter(action="update", object_type="diaries.diaryday").count() == 1
    assert DiaryDayRevision.objects.get().data["severity"] == 3


def test_one_bad_day_writes_nothing_and_names_the_field(world, cm_patient):
    body = {
        "days": [
            {"date": "2026-01-05", "headache": False},
            {"date": "2026-01-06", "headache": True},
        ]
    }
    response = _put(world.client("nurse"), cm_patient.pk, body)
    assert response.status_code == 422
    assert "days.1.severity" in response.json()["errors"]
    assert not DiaryDay.objects.exists()


@pytest.mark.parametrize(
    "day",
    [
        {"date": 20260105, "headache": False},
        {"date": "2026-01-05", "headache": "no"},
        {"date": "2026-01-05", "headache": False, "mood": "fine"},
        {"date": "2026-01-05", "headache": True, "severity": 4},
        {"date": "2026-01-05", "headache": True, "severity": 2, "note": "a\x00b"},
    ],
)
def test_strict_input_is_a_422(world, cm_patient, day):
    response = _put(world.client("nurse"), cm_patient.pk, {"days": [day]})
    assert response.status_code == 422
    assert not DiaryDay.objects.exists()


def test_a_date_twice_in_one_body_is_refused(world, cm_patient):
    body = {"days": [{"date": "2026-01-05", "headache": False}] * 2}
    response = _put(world.client("nurse"), cm_patient.pk, body)
    assert response.status_code == 422
    assert "days.1.date" in response.json()["errors"]


def test_the_list_returns_the_medicines(world, cm_patient):
    client = world.client("nurse")
    _put(client, cm_patient.pk, BODY)
    days = client.get(
        f"/api/v1/diaries/patients/{cm_patient.pk}/days?start=2026-01-01&end=2026-01-31"
    ).json()
    assert [d["date"] for d in days] == ["2026-01-05", "2026-01-06"]
    assert days[1]["medications"] == [
        {"name": "Rizatriptan", "drug_class": "triptan", "doses": 2},
        {"name": "Fioricet", "drug_class": "combination_analgesic", "doses": 1},
    ]
    assert days[1]["source"] == "transcribed"
