from __future__ import annotations

from datetime import date

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.patients.models import Condition, PatientFlag, PriorTreatment

pytestmark = pytest.mark.django_db


def post(world, kind, data, persona="nurse", htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return world.client(persona).post(
        f"/patients/{world.patient.pk}/add/{kind}/", data, headers=headers
    )


def test_a_nurse_adds_a_condition_with_a_matching_icd10_code(world):
    response = post(world, "condition", {"indication": "chronic_migraine", "icd10_code": "G43.709"})
    assert response.status_code == 200
    assert "G43.709" in response.content.decode()
    assert Condition.objects.get(patient=world.patient).icd10_code == "G43.709"
    assert AuditEvent.objects.filter(object_type="patients.condition", action="create").count() == 1


def test_an_icd10_code_of_another_indication_is_refused(world):
    response = post(world, "condition", {"indication": "chronic_migraine", "icd10_code": "G24.3"})
    assert response.status_code == 422
    assert "not a code for this indication" in response.content.decode()
    assert not Condition.objects.exists()


def test_a_contraindication_flag_shows_as_an_alert_on_the_chart(world):
    post(
        world, "flag", {"flag": "botulinum_hypersensitivity", "noted_on": "2026-01-02"}, htmx=False
    )
    html = world.client("front_desk").get(f"/patients/{world.patient.pk}/").content.decode()
    assert "Contraindication:" in html and "Known hypersensitivity to a botulinum toxin" in html


def test_a_flag_cannot_be_added_twice_while_active(world):
    post(world, "flag", {"flag": "neuromuscular_disorder", "noted_on": "2026-01-02"})
    response = post(world, "flag", {"flag": "neuromuscular_disorder", "noted_on": "2026-01-03"})
    assert response.status_code == 422
    assert PatientFlag.objects.count() == 1


def test_resolving_a_flag_keeps_its_history(world):
    flag = PatientFlag.objects.create(
        patient=world.patient, flag="injection_site_infection", noted_on=date(2026, 1, 1)
    )
    response = world.client("physician").post(
        f"/patients/{world.patient.pk}/flags/{flag.pk}/resolve/"
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert not flag.active and flag.resolved_on is not None
    assert AuditEvent.objects.get(action="update", object_type="patients.patientflag").changes[
        "active"
    ] == [True, False]


def test_a_prior_treatment_with_reversed_dates_is_refused(world):
    response = post(
        world,
        "prior",
        {
            "drug": "Topiramate",
            "drug_class": "anticonvulsant",
            "outcome": "not_tolerated",
            "started_on": "2024-05-01",
            "stopped_on": "2024-01-01",
        },
    )
    assert response.status_code == 422
    assert not PriorTreatment.objects.exists()


def test_a_weight_in_the_future_is_refused(world):
    response = post(world, "weight", {"measured_on": "2099-01-01", "weight_kg": "60"})
    assert response.status_code == 422
    assert "cannot be in the future" in response.content.decode()


def test_an_unknown_kind_is_404(world):
    assert post(world, "tattoo", {}).status_code == 404
