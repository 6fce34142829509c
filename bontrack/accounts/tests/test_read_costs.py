"""Issue 13 item 4: the staff API read of a patient in a fixed, small number of queries (the token,
its user and roles in one), revocation still immediate; session rows not rewritten on every view."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.accounts import services
from bontrack.accounts.models import ApiToken
from bontrack.audit.models import AuditEvent
from bontrack.patients.models import Condition, PatientFlag

pytestmark = pytest.mark.django_db


def _issue(world, persona: str = "nurse") -> str:
    return services.create_api_token(
        actor=world.users["clinic_admin"],
        user=world.users[persona],
        name="EHR sync",
        step_up_at=timezone.now(),
    )


def _read(client: Client, token: str, patient_id: int) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(
            f"/api/v1/patients/{patient_id}", headers={"Authorization": f"Bearer {token}"}
        )
    return response.status_code, [q["sql"] for q in ctx.captured_queries]


def test_an_api_token_request_reads_the_token_its_user_and_roles_in_one_query(world):
    token = _issue(world)
    client = Client()
    _read(client, token, world.patient.pk)  # last_used_at written (at most once a minute)
    status, sql = _read(client, token, world.patient.pk)
    assert status == 200
    assert sum('FROM "accounts_apitoken"' in q for q in sql) == 1
    assert not any('FROM "accounts_membership"' in q for q in sql)
    assert not any('FROM "accounts_user"' in q for q in sql)


def test_the_api_patient_read_costs_the_same_whatever_the_patient_holds(world):
    token = _issue(world)
    client = Client()
    _read(client, token, world.patient.pk)
    _, small = _read(client, token, world.patient.pk)
    for i in range(5):
        Condition.objects.create(
            patient=world.other_patient, indication="cervical_dystonia", icd10_code=f"G24.{i}"
        )
    for flag in ("aminoglycoside_use", "neuromuscular_disorder", "dysphagia_or_breathing"):
        PatientFlag.objects.create(
            patient=world.other_patient, flag=flag, noted_on=timezone.localdate()
        )
    response = client.get(
        f"/api/v1/patients/{world.other_patient.pk}", headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    assert [c["icd10_code"] for c in body["conditions"]][-5:] == [f"G24.{i}" for i in range(5)]
    assert [f["flag"] for f in body["flags"]] == [
        "aminoglycoside_use",
        "dysphagia_or_breathing",
        "neuromuscular_disorder",
    ]
    assert body["flags"][0]["noted_on"] == timezone.localdate().isoformat()
    status, large = _read(client, token, world.other_patient.pk)
    assert status == 200
    assert len(large) == len(small)
    # token+roles, patient, conditions, flags, and the audit row (BEGIN, chain head, insert,
    # head update, COMMIT)
    assert len(small) <= 9, small
    # Each read still leaves its audit row, naming the token.
    reads = AuditEvent.objects.filter(action="view", patient_id=world.other_patient.pk)
    assert reads.count() == 2
    assert all("API token" in e.summary for e in reads)


def test_a_revoked_token_stops_working_at_the_next_request(world):
    token = _issue(world)
    client = Client()
    assert _read(client, token, world.patient.pk)[0] == 200
    services.revoke_api_token(actor=world.users["clinic_admin"], token=ApiToken.objects.get())
    status, _ = _read(client, token, world.patient.pk)
    assert status == 401


def test_a_role_removed_counts_at_the_next_request(world):
    token = _issue(world)
    client = Client()
    assert _read(client, token, world.patient.pk)[0] == 200
    world.users["nurse"].memberships.all().delete()
    assert _read(client, token, world.patient.pk)[0] == 403


def test_a_token_of_a_user_without_roles_is_refused(world):
    token = _issue(world)
    world.users["nurse"].memberships.all().delete()
    assert _read(Client(), token, world.patient.pk)[0] == 403


# --- sessions ------------------------------------------------------------------------------


def _session_writes(client: Client, path: str = "/patients/") -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]
    )


def _expiry(client: Client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_page_views_within_a_minute_do_not_rewrite_the_session(world):
    client = world.client("front_desk")
    assert _session_writes(client) == 0
    assert _session_writes(client) == 0
    assert client.session.get_expiry_age() == settings.STAFF_IDLE_TIMEOUT_SECONDS


def test_the_idle_expiry_slides_once_the_slide_interval_has_passed(world):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = world.client("front_desk")
        first = _expiry(client)
        traveller.shift(timedelta(seconds=settings.SESSION_SLIDE_SECONDS + 1))
        assert _session_writes(client) == 1
        later = _expiry(client)
        assert later - first == timedelta(seconds=settings.SESSION_SLIDE_SECONDS + 1)
        assert later == timezone.now() + timedelta(seconds=settings.STAFF_IDLE_TIMEOUT_SECONDS)


def test_an_active_user_stays_signed_in_past_the_idle_timeout(world):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = world.client("front_desk")
        for _ in range(6):  # 30 minutes of a page every 5 minutes
            traveller.shift(timedelta(minutes=5))
            assert client.get("/patients/").status_code == 200


@pytest.mark.parametrize(
    "persona,path,idle",
    [
        ("front_desk", "/patients/", "STAFF_IDLE_TIMEOUT_SECONDS"),
        ("patient", "/portal/", "PATIENT_IDLE_TIMEOUT_SECONDS"),
    ],
)
def test_an_idle_session_still_ends_at_the_idle_timeout(world, persona, path, idle):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = world.client(persona)
        traveller.shift(timedelta(seconds=settings.SESSION_SLIDE_SECONDS // 2))
        assert client.get(path).status_code == 200  # not written: within the slide interval
        # Idle for the timeout counted from the last write (never later than from the last view).
        traveller.shift(
            timedelta(seconds=getattr(settings, idle) - settings.SESSION_SLIDE_SECONDS // 2 + 1)
        )
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]
