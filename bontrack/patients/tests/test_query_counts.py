"""List and chart pages keep the same query count whatever the data size."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, PatientFlag, PriorTreatment, WeightMeasurement

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(world, n: int) -> None:
    patients = PatientFactory.create_batch(n, clinic=world.clinic)
    for p in patients[:5]:
        for i in range(8):
            WeightMeasurement.objects.create(
                patient=p, measured_on=date(2025, 1, 1) + timedelta(days=i), weight_kg=60
            )


def test_the_patient_list_costs_the_same_for_1_and_200_patients(world):
    client = world.client("front_desk")
    small = _queries(client, "/patients/")
    _grow(world, 200)
    assert _queries(client, "/patients/") == small
    assert _queries(client, "/patients/?q=a") == small


def test_the_chart_costs_the_same_for_a_thin_and_a_thick_record(world):
    client = world.client("nurse")
    url = f"/patients/{world.patient.pk}/"
    thin = _queries(client, url)
    for i in range(30):
        WeightMeasurement.objects.create(
            patient=world.patient, measured_on=date(2024, 1, 1) + timedelta(days=i), weight_kg=61
        )
        PriorTreatment.objects.create(
            patient=world.patient, drug=f"Drug {i}", drug_class="other", outcome="ineffective"
        )
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    PatientFlag.objects.create(
        patient=world.patient, flag="neuromuscular_disorder", noted_on=date(2024, 1, 1)
    )
    _grow(world, 200)
    assert _queries(client, url) == thin


def test_the_api_list_costs_the_same_for_1_and_200_patients(world):
    client = world.client("billing")
    small = _queries(client, "/api/v1/patients/")
    _grow(world, 200)
    assert _queries(client, "/api/v1/patients/?limit=100") == small


def test_the_api_detail_costs_the_same_for_a_thin_and_a_thick_record(world):
    client = world.client("nurse")
    url = f"/api/v1/patients/{world.patient.pk}"
    thin = _queries(client, url)
    for code in ("G43.709", "G43.719", "G43.E09"):
        Condition.objects.create(
            patient=world.patient, indication="chronic_migraine", icd10_code=code
        )
    PatientFlag.objects.create(
        patient=world.patient, flag="aminoglycoside_use", noted_on=date(2024, 1, 1)
    )
    assert _queries(client, url) == thin
