"""Bad API input is a 4xx JSON error with field messages, never a 500, and changes nothing."""

from __future__ import annotations

import json

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db

VALID = {"first_name": "Nora", "last_name": "Baker", "date_of_birth": "1975-02-03"}

BAD_BODIES = [
    ("empty first name", {"first_name": ""}, "first_name"),
    ("blank first name", {"first_name": "   "}, "first_name"),
    ("huge last name", {"last_name": "x" * 10_000}, "last_name"),
    ("NUL byte", {"last_name": "Ba\x00ker"}, "last_name"),
    ("number for a name", {"first_name": 12}, "first_name"),
    ("date as 0", {"date_of_birth": 0}, "date_of_birth"),
    ("date as empty string", {"date_of_birth": ""}, "date_of_birth"),
    ("impossible date", {"date_of_birth": "2021-02-30"}, "date_of_birth"),
    ("US date format", {"date_of_birth": "02/03/1975"}, "date_of_birth"),
    ("future birth", {"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ("unknown sex", {"sex": "robot"}, "sex"),
    ("unknown field", {"ssn": "123-45-6789"}, "ssn"),
    ("bad email", {"email": "not-an-email"}, "email"),
    ("clinic id as string", {"clinic_id": "1"}, "clinic_id"),
    ("clinic id as bool", {"clinic_id": True}, "clinic_id"),
]


@pytest.mark.parametrize("label,override,field", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_gets_a_field_error_and_changes_nothing(world, label, override, field):
    client = world.client("front_desk")
    before = (Patient.objects.count(), AuditEvent.objects.count())
    body = {"clinic_id": world.clinic.pk, **VALID, **override}
    response = client.post("/api/v1/patients/", json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    payload = response.json()
    assert field in payload["errors"], payload
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[]", b"null", b'"x"'])
def test_a_body_that_is_not_an_object_is_refused(world, raw):
    response = world.client("front_desk").post(
        "/api/v1/patients/", raw, content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert "detail" in response.json()


def test_a_duplicate_mrn_is_a_409_conflict(world):
    body = {"clinic_id": world.clinic.pk, **VALID, "mrn": "A1-0001"}
    response = world.client("front_desk").post(
        "/api/v1/patients/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 409
    assert "mrn" in response.json()["errors"]


def test_a_null_in_a_patch_is_refused(world):
    response = world.client("nurse").patch(
        f"/api/v1/patients/{world.patient.pk}",
        json.dumps({"last_name": None}),
        content_type="application/json",
    )
    assert response.status_code == 422
    world.patient.refresh_from_db()
    assert world.patient.last_name == "Cohen"


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=101", "?limit=abc", "?cursor=%%%", "?q=" + "x" * 200]
)
def test_bad_list_parameters_are_422(world, query):
    response = world.client("nurse").get("/api/v1/patients/" + query)
    assert response.status_code == 422


def test_an_unknown_patient_is_404_json(world):
    response = world.client("nurse").get("/api/v1/patients/999999")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."
