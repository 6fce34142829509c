"""Issue 13 item 4: patient search by name, MRN or date of birth in a fixed number of queries, served
by indexes on PostgreSQL (a pg_trgm GIN index for name fragments, UPPER(mrn)), never a table scan;
SQLite keeps working (same results, no trigram index)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.factories import PatientFactory
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db
pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")


def _search(client, q: str) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/patients/", {"q": q})
    assert response.status_code == 200
    return [p["mrn"] for p in response.json()["items"]], len(ctx.captured_queries)


def _patients(world, n: int) -> None:
    PatientFactory.create_batch(n, clinic=world.clinic)
    PatientFactory(
        clinic=world.clinic,
        mrn="AbC-0042",
        first_name="Ingrid",
        last_name="Kowalski",
        date_of_birth=date(1961, 3, 14),
    )


@pytest.mark.parametrize(
    "q", ["kowal", "KOWALSKI ingrid", "abc-0042", "ABC-0042", "3/14/1961", "1961-03-14"]
)
def test_search_finds_by_name_fragment_mrn_in_any_case_and_date_of_birth(world, q):
    _patients(world, 3)
    found, _ = _search(world.client("front_desk"), q)
    assert found == ["AbC-0042"]


def test_search_costs_the_same_for_few_and_many_patients(world):
    client = world.client("front_desk")
    _patients(world, 3)
    counts = {q: _search(client, q)[1] for q in ("kowal", "abc-0042", "1961-03-14")}
    PatientFactory.create_batch(120, clinic=world.clinic)
    assert {q: _search(client, q)[1] for q in counts} == counts


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(r[0] for r in cursor.fetchall())


@pg_only
def test_name_and_mrn_search_are_served_by_indexes_on_postgresql(world):
    _patients(world, 3)
    for q, index in (("kowal", "patient_name_trgm"), ("abc-0042", "patient_mrn_upper")):
        sql, params = Patient.objects.search(q).query.sql_with_params()
        plan = _plan(sql, list(params))
        assert index in plan, plan
        assert "Seq Scan on patients_patient" not in plan, plan


@pg_only
def test_the_trigram_extension_and_index_exist(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_name_trgm'")
        assert "gin_trgm_ops" in cursor.fetchone()[0]
