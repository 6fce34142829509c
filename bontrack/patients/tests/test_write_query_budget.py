"""Registering a patient costs the same number of queries in an empty clinic and in a full one."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.factories import PatientFactory
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db


def _register(client, clinic, n: int) -> int:
    body = {
        "clinic_id": clinic.pk,
        "first_name": "Nora",
        "last_name": f"Baker{n}",
        "date_of_birth": "1975-02-03",
    }
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/api/v1/patients/", json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    return len(ctx.captured_queries)


def test_registering_a_patient_costs_the_same_with_few_or_many_patients(world):
    client = world.client("front_desk")
    _register(client, world.clinic, 0)  # warm-up: sequences, session, first audit row
    small = _register(client, world.clinic, 1)
    PatientFactory.create_batch(40, clinic=world.clinic)
    PatientFactory.create_batch(20, clinic=world.other_clinic)
    large = _register(client, world.clinic, 2)
    assert large == small
    assert Patient.objects.filter(last_name__in=["Baker0", "Baker1", "Baker2"]).count() == 3
