"""Refused requests, failed sign-ins and lockouts leave audit rows, and an attacker cannot flood them."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client, override_settings

from bontrack.audit.models import AuditEvent
from bontrack.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _denied():
    return AuditEvent.objects.filter(outcome="denied", action="access")


@pytest.mark.parametrize(
    "persona", ["other_clinic_staff", "other_practice_staff", "other_patient", "patient"]
)
def test_a_refused_chart_request_writes_a_denied_event_without_the_patient(world, persona):
    url = f"/patients/{world.patient.pk}/"
    response = world.client(persona).get(url, REMOTE_ADDR="10.0.0.9")
    assert response.status_code in (403, 404)
    event = _denied().get()
    user = world.users[persona]
    assert (event.actor_id, event.patient_id, event.source_ip, event.channel) == (
        user.pk,
        None,
        "10.0.0.9",
        "ui",
    )
    assert event.summary == f"Denied GET {url} ({response.status_code})"
    assert not AuditEvent.objects.filter(outcome="success", patient_id=world.patient.pk).exists()


def test_a_refused_api_request_writes_a_denied_event(world):
    url = f"/api/v1/patients/{world.patient.pk}"
    response = world.client("other_practice_staff").get(url)
    assert response.status_code == 404
    event = _denied().get()
    assert (event.channel, event.patient_id) == ("api", None)
    assert event.summary == f"Denied GET {url} (404)"


def test_a_refused_write_names_its_method(world):
    url = f"/patients/{world.patient.pk}/edit/"
    response = world.client("other_clinic_staff").post(url, {"first_name": "X"})
    assert response.status_code == 404
    assert _denied().get().summary == f"Denied POST {url} (404)"


def test_a_403_for_a_role_writes_a_denied_event(world):
    response = world.client("billing").get("/accounts/api-tokens/")
    assert response.status_code == 403
    assert _denied().get().actor_id == world.users["billing"].pk


def test_anonymous_visitors_and_unknown_pages_write_nothing(world):
    assert world.client("anonymous").get(f"/patients/{world.patient.pk}/").status_code == 302
    assert world.client("anonymous").get(f"/api/v1/patients/{world.patient.pk}").status_code == 401
    assert world.client("nurse").get("/no-such-page/").status_code == 404
    assert not AuditEvent.objects.exists()


@override_settings(AUDIT_DENIED_EVENTS_PER_MINUTE=3)
def test_denied_events_are_capped_per_user_and_ip_per_minute(world):
    client = world.client("other_practice_staff")
    for _ in range(10):
        assert client.get(f"/patients/{world.patient.pk}/").status_code == 404
    assert _denied().count() == 3
    note = AuditEvent.objects.get(action="rate_limited")
    assert "further ones this minute are not recorded" in note.summary
    # Another user from another address still leaves its row.
    other = world.client("other_clinic_staff")
    other.get(f"/patients/{world.patient.pk}/", REMOTE_ADDR="10.0.0.2")
    assert _denied().count() == 4


def _sign_in(client: Client, username: str, password: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR="10.0.0.5")


def test_a_failed_staff_sign_in_is_audited(world):
    assert _sign_in(Client(), "nurse", "wrong-password").status_code == 200
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.outcome, event.object_id, event.practice_id, event.source_ip) == (
        "failure",
        str(world.users["nurse"].pk),
        world.practice.pk,
        "10.0.0.5",
    )
    assert event.summary == "Failed staff sign-in as 'nurse'"
    assert "wrong-password" not in str(event.changes) + event.summary


def test_a_failed_portal_sign_in_for_an_unknown_name_is_audited(world):
    assert _sign_in(Client(), "nobody", "x" * 12, url="/portal/login/").status_code == 200
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.channel, event.object_id, event.practice_id) == ("portal", "", None)
    assert event.summary == "Failed patient portal sign-in as 'nobody'"


def test_a_lockout_is_audited(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "nurse", "wrong-password")
    lockout = AuditEvent.objects.get(action="lockout")
    assert (lockout.outcome, lockout.object_id) == ("denied", str(world.users["nurse"].pk))
    assert "10.0.0.5" in lockout.summary
    # A correct password during the lockout is refused and audited as a failure, not a login.
    assert _sign_in(client, "nurse", TEST_PASSWORD).status_code == 429
    assert not AuditEvent.objects.filter(action="login").exists()


@override_settings(AUDIT_FAILED_SIGNIN_EVENTS_PER_MINUTE=4, AXES_FAILURE_LIMIT=1000)
def test_failed_sign_ins_are_capped_per_ip_per_minute(world):
    client = Client()
    for i in range(20):
        _sign_in(client, f"guess{i}", "wrong-password")
    assert AuditEvent.objects.filter(action="login_failed").count() == 4
    assert AuditEvent.objects.filter(action="rate_limited").count() == 1


def test_a_refused_token_request_writes_a_denied_event_for_the_tokens_user(world):
    from bontrack.accounts.models import ApiToken, hash_token_secret

    billing = world.users["billing"]
    key_id, secret, token = ApiToken.generate()
    ApiToken.objects.create(
        user=billing, name="books", key_id=key_id, secret_hash=hash_token_secret(secret)
    )
    response = Client().post(
        "/api/v1/patients/",
        json.dumps(
            {
                "clinic_id": world.clinic.pk,
                "first_name": "Nora",
                "last_name": "Baker",
                "date_of_birth": "1975-02-03",
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    event = _denied().get()
    assert (event.actor_id, event.channel, event.patient_id) == (billing.pk, "api", None)
    assert event.summary.startswith("Denied POST /api/v1/patients/ (403)")
    assert event.changes.get("api_token") is not None  # the refused token is named
    assert not AuditEvent.objects.exclude(outcome="denied").exists()
