"""Who may read and change patient records, over every persona; a denial changes nothing."""

from __future__ import annotations

import json

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.patients.models import Patient, WeightMeasurement
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

# persona -> expected status for reading the A1 patient's chart in the staff UI
CHART = permission_matrix(Perm.PATIENT_VIEW)
ACCESS_LOG = permission_matrix(Perm.AUDIT_VIEW)
EDIT_DEMOGRAPHICS = permission_matrix(Perm.PATIENT_EDIT, ok=302)
ADD_WEIGHT = permission_matrix(Perm.PATIENT_CLINICAL_EDIT, ok=302)
API_GET = permission_matrix(Perm.PATIENT_VIEW, api=True)
# Registering in A1 as staff of A2 is refused (403); practice B's staff name a clinic that is not
# theirs, a field error (422).
API_CREATE = permission_matrix(
    Perm.PATIENT_CREATE, ok=201, api=True, other_clinic_staff=403, other_practice_staff=422
)
API_PATCH = permission_matrix(Perm.PATIENT_EDIT, api=True)


def _counts() -> tuple[int, int, int]:
    return (
        Patient.objects.count(),
        WeightMeasurement.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


@pytest.mark.parametrize("persona,expected", CHART.items())
def test_reading_a_chart(world, persona, expected):
    response = world.client(persona).get(f"/patients/{world.patient.pk}/")
    assert response.status_code == expected
    if expected == 200:
        assert b"Cohen" in response.content
        assert AuditEvent.objects.filter(patient_id=world.patient.pk, action="view").count() == 1
    else:
        assert not AuditEvent.objects.filter(patient_id=world.patient.pk, action="view").exists()


@pytest.mark.parametrize("persona,expected", ACCESS_LOG.items())
def test_reading_the_access_log(world, persona, expected):
    assert (
        world.client(persona).get(f"/patients/{world.patient.pk}/access-log/").status_code
        == expected
    )


def test_the_access_log_says_roles_and_channels_in_words(world):
    world.client("physician").get(f"/patients/{world.patient.pk}/")
    html = world.client("clinic_admin").get(f"/patients/{world.patient.pk}/access-log/").content
    assert b"<td>Physician</td>" in html and b"<td>Staff screens</td>" in html
    assert b">View<" in html and b"<td>ui</td>" not in html


@pytest.mark.parametrize(
    "persona", ["physician", "billing", "other_clinic_staff", "other_practice_staff"]
)
def test_the_list_shows_only_patients_in_scope(world, persona):
    response = world.client(persona).get("/patients/")
    assert response.status_code == 200
    visible = persona in {"physician", "billing"}
    assert (b"Cohen" in response.content) is visible


@pytest.mark.parametrize("persona", ["patient", "other_patient"])
def test_patients_never_reach_staff_pages(world, persona):
    assert world.client(persona).get("/patients/").status_code == 403


@pytest.mark.parametrize("persona,expected", EDIT_DEMOGRAPHICS.items())
def test_editing_demographics(world, persona, expected):
    before = _counts()
    form = {
        "clinic": world.clinic.pk,
        "first_name": "Rosa",
        "last_name": "Cohen-Levi",
        "date_of_birth": "1980-05-17",
        "sex": "female",
        "mrn": "A1-0001",
        "preferred_contact": "email",
        "preferred_language": "en",
        "status": "active",
        "email": "rosa@example.org",
    }
    response = world.client(persona).post(f"/patients/{world.patient.pk}/edit/", form)
    assert response.status_code == expected
    world.patient.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert world.patient.last_name == "Cohen-Levi"
        assert AuditEvent.objects.filter(action="update", patient_id=world.patient.pk).count() == 1
    else:
        assert world.patient.last_name == "Cohen"
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", ADD_WEIGHT.items())
def test_recording_a_weight(world, persona, expected):
    before = _counts()
    response = world.client(persona).post(
        f"/patients/{world.patient.pk}/add/weight/",
        {"measured_on": "2026-01-10", "weight_kg": "64.5"},
    )
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        assert WeightMeasurement.objects.filter(patient=world.patient).count() == 1
        assert (
            AuditEvent.objects.filter(
                action="create", object_type="patients.weightmeasurement"
            ).count()
            == 1
        )
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", API_GET.items())
def test_api_get_patient(world, persona, expected):
    response = world.client(persona).get(f"/api/v1/patients/{world.patient.pk}")
    assert response.status_code == expected
    assert response["Content-Type"].startswith("application/json")
    if expected == 200:
        assert response.json()["mrn"] == "A1-0001"


@pytest.mark.parametrize("persona,expected", API_CREATE.items())
def test_api_register_patient(world, persona, expected):
    before = _counts()
    body = {
        "clinic_id": world.clinic.pk,
        "first_name": "Nora",
        "last_name": "Baker",
        "date_of_birth": "1975-02-03",
    }
    response = world.client(persona).post(
        "/api/v1/patients/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        assert Patient.objects.filter(last_name="Baker", clinic=world.clinic).count() == 1
        assert (
            AuditEvent.objects.filter(action="create", object_type="patients.patient").count() == 1
        )
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", API_PATCH.items())
def test_api_update_patient(world, persona, expected):
    before = _counts()
    response = world.client(persona).patch(
        f"/api/v1/patients/{world.patient.pk}",
        json.dumps({"phone": "+1-555-000-1111"}),
        content_type="application/json",
    )
    assert response.status_code == expected, response.content
    world.patient.refresh_from_db()
    if expected == 200:
        assert world.patient.phone == "+1-555-000-1111"
    else:
        assert world.patient.phone == ""
        assert _counts() == before


# The form only offers one's own clinics: staff of other clinics get the form back (422).
CREATE_UI = permission_matrix(
    Perm.PATIENT_CREATE, ok=302, other_clinic_staff=422, other_practice_staff=422
)
# The list is scoped, not refused: other clinics' staff get their own (empty) list.
API_LIST = permission_matrix(
    Perm.PATIENT_VIEW, api=True, other_clinic_staff=200, other_practice_staff=200
)
RESOLVE_FLAG = permission_matrix(Perm.PATIENT_CLINICAL_EDIT, ok=302)


@pytest.mark.parametrize("persona,expected", CREATE_UI.items())
def test_registering_in_clinic_a1_through_the_ui(world, persona, expected):
    """Staff of other clinics get the form back (422): A1 is not among their clinic choices."""
    before = _counts()
    form = {
        "clinic": world.clinic.pk,
        "first_name": "Lucia",
        "last_name": "Rossi",
        "date_of_birth": "1988-07-21",
        "sex": "female",
        "preferred_contact": "email",
        "preferred_language": "en",
        "status": "active",
    }
    response = world.client(persona).post("/patients/new/", form)
    assert response.status_code == expected
    created = Patient.objects.filter(last_name="Rossi").exists()
    assert created is (expected == 302 and persona != "anonymous")
    if not created:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", API_LIST.items())
def test_api_list_patients(world, persona, expected):
    response = world.client(persona).get("/api/v1/patients/")
    assert response.status_code == expected
    if expected == 200:
        mrns = {p["mrn"] for p in response.json()["items"]}
        assert ("A1-0001" in mrns) is (
            persona not in {"other_clinic_staff", "other_practice_staff"}
        )


@pytest.mark.parametrize("persona,expected", RESOLVE_FLAG.items())
def test_resolving_a_flag(world, persona, expected):
    from datetime import date

    from bontrack.patients.models import PatientFlag

    flag = PatientFlag.objects.create(
        patient=world.patient, flag="injection_site_infection", noted_on=date(2026, 1, 1)
    )
    before = _counts()
    response = world.client(persona).post(f"/patients/{world.patient.pk}/flags/{flag.pk}/resolve/")
    assert response.status_code == expected
    flag.refresh_from_db()
    assert flag.active is not (expected == 302 and persona != "anonymous")
    if flag.active:
        assert _counts() == before
