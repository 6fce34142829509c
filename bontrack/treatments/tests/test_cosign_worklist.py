"""The physician's co-signature worklist: plain-sentence deviations, newest first, pages, empty
state, scope, the navigation badge, the API list, and a query count that does not grow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition
from bontrack.treatments import selectors
from bontrack.treatments.actions import charting, plans, signing
from conftest import permission_matrix

from .conftest import acknowledge_all, chart

pytestmark = pytest.mark.django_db


def _awaiting(world, patient=None, *, deviate=True):
    """A nurse's session off the physician's order (left corrugator 10 U for 5 U ordered)."""
    patient = patient or PatientFactory(clinic=world.clinic)
    Condition.objects.get_or_create(
        patient=patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    plans.create_plan(actor=world.users["physician"], patient=patient)
    session = chart(world.users["nurse"], patient)
    if deviate:
        site = session.injections.filter(muscle="corrugator", side="left").first()
        charting.update_injection(actor=world.users["nurse"], injection=site, units=Decimal(10))
    acknowledge_all(world.users["physician"], session)
    return signing.sign_session(actor=world.users["nurse"], session=session)


def test_the_worklist_says_what_deviates_newest_first(world):
    first = _awaiting(world)
    second = _awaiting(world)
    page = world.client("physician").get("/treatments/cosign/").content.decode()
    assert "Left corrugator: 10 U charted, 5 U ordered." in page
    assert page.index(second.patient.last_name) < page.index(first.patient.last_name)
    assert f"/treatments/sessions/{first.pk}/cosign/" in page
    assert AuditEvent.objects.filter(object_type="treatments.cosign_worklist").exists()


def test_the_worklist_is_paged(world, monkeypatch):
    monkeypatch.setattr(selectors, "COSIGN_PAGE", 1)
    older, newer = _awaiting(world), _awaiting(world)
    client = world.client("physician")
    page = client.get("/treatments/cosign/").content.decode()
    assert newer.patient.last_name in page and older.patient.last_name not in page
    assert "Older sessions" in page
    cursor = page.split("?cursor=")[1].split('"')[0]
    page2 = client.get(f"/treatments/cosign/?cursor={cursor}").content.decode()
    assert older.patient.last_name in page2 and newer.patient.last_name not in page2
    assert client.get("/treatments/cosign/?cursor=forged").status_code == 404


def test_an_empty_worklist_says_so_and_signed_sessions_are_not_on_it(world):
    _awaiting(world, deviate=False)  # within the order, warnings acknowledged by the physician
    page = world.client("physician").get("/treatments/cosign/").content.decode()
    assert "Nothing to co-sign" in page


def test_another_clinics_physician_does_not_see_the_session(world):
    session = _awaiting(world)
    page = world.client("other_clinic_staff").get("/treatments/cosign/").content.decode()
    assert session.patient.last_name not in page and "Nothing to co-sign" in page
    badge = world.client("other_clinic_staff").get("/treatments/cosign/count/").content.decode()
    assert "none waiting" in badge


def test_the_navigation_shows_physicians_the_count(world):
    _awaiting(world)
    _awaiting(world)
    client = world.client("physician")
    assert "/treatments/cosign/count/" in client.get("/patients/").content.decode()
    badge = client.get("/treatments/cosign/count/").content.decode()
    assert ">2<" in badge and "2 sessions awaiting your co-signature" in badge
    nurse_page = world.client("nurse").get("/patients/").content.decode()
    assert "/treatments/cosign/" not in nurse_page


# Physicians elsewhere get their own (empty) worklist: the list is scoped, not refused.
WORKLIST = permission_matrix(Perm.SESSION_COSIGN, other_clinic_staff=200, other_practice_staff=200)
WORKLIST_API = permission_matrix(
    Perm.SESSION_COSIGN, api=True, other_clinic_staff=200, other_practice_staff=200
)


@pytest.mark.parametrize("persona,expected", WORKLIST.items())
def test_who_may_open_the_worklist(world, persona, expected):
    session = _awaiting(world)
    response = world.client(persona).get("/treatments/cosign/")
    assert response.status_code == expected
    if expected == 200:
        shown = session.patient.last_name in response.content.decode()
        assert shown == (persona == "physician")


@pytest.mark.parametrize("persona,expected", WORKLIST_API.items())
def test_who_may_list_the_worklist_through_the_api(world, persona, expected):
    session = _awaiting(world)
    response = world.client(persona).get("/api/v1/treatments/cosign")
    assert response.status_code == expected
    if expected == 200:
        items = response.json()["items"]
        assert [i["id"] for i in items] == ([session.pk] if persona == "physician" else [])
        if items:
            assert items[0]["reasons"][0]["message"] == (
                "Left corrugator: 10 U charted, 5 U ordered."
            )


def test_the_api_list_is_paged_and_refuses_a_forged_cursor(world):
    older, newer = _awaiting(world), _awaiting(world)
    client = world.client("physician")
    body = client.get("/api/v1/treatments/cosign?size=1").json()
    assert [i["id"] for i in body["items"]] == [newer.pk] and body["next_cursor"]
    body = client.get(f"/api/v1/treatments/cosign?size=1&cursor={body['next_cursor']}").json()
    assert [i["id"] for i in body["items"]] == [older.pk]
    assert client.get("/api/v1/treatments/cosign?cursor=forged").status_code == 422
    assert client.get("/api/v1/treatments/cosign?size=0").status_code == 422


def test_the_worklist_costs_the_same_with_1_or_4_sessions(world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("physician")
    _awaiting(world)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/treatments/cosign/").status_code == 200
    for _ in range(3):
        _awaiting(world)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/treatments/cosign/")
    assert response.content.decode().count("Left corrugator: 10 U charted") == 4
