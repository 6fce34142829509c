from __future__ import annotations

from datetime import date

import pytest

from bontrack.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    PatientFactory(
        clinic=world.clinic,
        first_name="Ingrid",
        last_name="Larsen",
        mrn="X-77",
        date_of_birth=date(1990, 3, 4),
    )
    PatientFactory(
        clinic=world.clinic,
        first_name="Omar",
        last_name="Haddad",
        mrn="X-78",
        date_of_birth=date(1961, 12, 1),
    )
    return world


@pytest.mark.parametrize(
    "query,expected",
    [
        ("larsen", ["Larsen"]),
        ("Ingrid Larsen", ["Larsen"]),
        ("Larsen, Ingrid", ["Larsen"]),
        ("x-78", ["Haddad"]),
        ("1990-03-04", ["Larsen"]),
        ("12/01/1961", ["Haddad"]),
        ("nobody", []),
    ],
)
def test_it_finds_patients_by_name_mrn_or_date_of_birth(people, query, expected):
    response = people.client("front_desk").get("/api/v1/patients/", {"q": query})
    assert response.status_code == 200
    assert [p["last_name"] for p in response.json()["items"]] == expected


def test_keyset_pages_cover_every_patient_once(world):
    PatientFactory.create_batch(23, clinic=world.clinic)
    client = world.client("billing")
    seen, cursor = [], ""
    while True:
        data = client.get("/api/v1/patients/", {"limit": 10, "cursor": cursor}).json()
        seen += [p["id"] for p in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 25


def test_the_staff_list_pages_with_a_cursor(world):
    PatientFactory.create_batch(30, clinic=world.clinic)
    client = world.client("front_desk")
    first = client.get("/patients/")
    assert first.status_code == 200
    assert b"Next page" in first.content
    cursor = first.content.decode().split("cursor=")[1].split('"')[0]
    second = client.get(f"/patients/?cursor={cursor}")
    assert second.status_code == 200
    assert b"Next page" not in second.content


def test_an_htmx_search_returns_only_the_results_fragment(people):
    response = people.client("front_desk").get(
        "/patients/", {"q": "haddad"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"Haddad" in response.content
    assert b"<html" not in response.content


def test_a_search_leaves_one_audit_row_with_the_query(people):
    from bontrack.audit.models import AuditEvent

    people.client("front_desk").get("/patients/", {"q": "larsen"})
    event = AuditEvent.objects.get(action="search")
    assert event.actor_label == "frontdesk" and "larsen" in event.summary and event.channel == "ui"


def test_an_overlong_search_is_refused_with_a_message(people):
    response = people.client("front_desk").get("/patients/", {"q": "x" * 101})
    assert response.status_code == 422
    assert "limited to 100 characters" in response.content.decode()
