"""Security issue 8, finding 1: TOTP on every page and API call, step-up for sensitive actions, and
API tokens that expire, have a scope, are listed, revocable and audited by id."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bontrack.accounts import services
from bontrack.accounts.middleware import AUTH_AT, OTP_AT
from bontrack.accounts.models import ApiToken
from bontrack.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ISSUE = {"name": "EHR sync", "scope": "read", "days": 90}


def password_only(user) -> Client:
    """Signed in with the password, TOTP not yet passed (a confirmed device exists)."""
    TOTPDevice.objects.get_or_create(user=user, name="phone", defaults={"confirmed": True})
    client = Client()
    client.force_login(user)
    return client


def set_session(client: Client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(world, persona="nurse", **kwargs) -> str:
    return services.create_api_token(
        actor=world.users["clinic_admin"],
        user=world.users[persona],
        name=kwargs.pop("name", "EHR sync"),
        step_up_at=timezone.now(),
        **kwargs,
    )


# --- MFA everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/accounts/api-tokens/", "/accounts/staff/", "/accounts/step-up/", "/patients/"]
)
def test_an_admin_without_totp_is_sent_to_the_2fa_step_on_every_page(world, path):
    client = password_only(world.users["clinic_admin"])
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/?next=")


def test_an_admin_without_totp_cannot_issue_a_token_nor_read_patients(world):
    client = password_only(world.users["clinic_admin"])
    response = client.post("/accounts/api-tokens/", {"user": world.users["nurse"].pk, **ISSUE})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(object_type="accounts.apitoken").exists()
    api = client.get("/api/v1/patients/")
    assert api.status_code == 403
    assert "Two-factor authentication is required" in api.json()["detail"]


def test_sign_in_2fa_and_sign_out_stay_reachable_before_totp(world):
    client = password_only(world.users["clinic_admin"])
    assert client.get("/accounts/2fa/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/2fa/").status_code == 302  # signed out now


def test_passing_totp_opens_the_pages_and_returns_to_the_page_asked_for(world):
    admin = world.users["clinic_admin"]
    client = password_only(admin)
    device = TOTPDevice.objects.get(user=admin)
    response = client.post(
        "/accounts/2fa/?next=/accounts/staff/", {"token": f"{totp(device.bin_key):06d}"}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/staff/"
    assert client.get("/accounts/staff/").status_code == 200
    assert client.session[OTP_AT] >= time.time() - 5


# --- step-up --------------------------------------------------------------------------------


def test_a_stale_totp_asks_for_a_fresh_code_before_issuing_a_token(world, settings):
    admin = world.users["clinic_admin"]
    client = world.client("clinic_admin")
    set_session(client, **{OTP_AT: int(time.time()) - settings.MFA_STEP_UP_SECONDS - 5})
    response = client.post("/accounts/api-tokens/", {"user": world.users["nurse"].pk, **ISSUE})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/step-up/?next=%2Faccounts%2Fapi-tokens%2F"
    assert not ApiToken.objects.exists()
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Confirm it is you" in page.content
    assert client.post(response["Location"], {"token": "000000"}).status_code == 422
    device = TOTPDevice.objects.get(user=admin)
    # django-otp throttles after a failure; a fresh device state lets the next code through
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    ok = client.post(response["Location"], {"token": f"{totp(device.bin_key):06d}"})
    assert ok.status_code == 302 and ok["Location"] == "/accounts/api-tokens/"
    refilled = client.get("/accounts/api-tokens/").content.decode()
    assert 'value="EHR sync"' in refilled  # the form comes back as it was typed
    issued = client.post("/accounts/api-tokens/", {"user": world.users["nurse"].pk, **ISSUE})
    assert issued.status_code == 200 and b'data-testid="new-token"' in issued.content
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("step_up_at", [None, "stale"])
def test_the_services_refuse_sensitive_actions_without_a_fresh_step_up(world, settings, step_up_at):
    if step_up_at == "stale":
        step_up_at = timezone.now() - timedelta(seconds=settings.MFA_STEP_UP_SECONDS + 1)
    admin, nurse = world.users["clinic_admin"], world.users["nurse"]
    password = nurse.password
    with pytest.raises(services.StepUpRequired):
        services.create_api_token(actor=admin, user=nurse, name="x", step_up_at=step_up_at)
    with pytest.raises(services.StepUpRequired):
        services.add_membership(
            actor=admin, user=nurse, role="billing", clinic=world.clinic, step_up_at=step_up_at
        )
    with pytest.raises(services.StepUpRequired):
        services.reset_staff_password(actor=admin, user=nurse, step_up_at=step_up_at)
    nurse.refresh_from_db()
    assert nurse.password == password and not nurse.must_change_password
    assert not ApiToken.objects.exists() and nurse.memberships.count() == 1
    assert not AuditEvent.objects.exists()


# --- tokens ---------------------------------------------------------------------------------


def test_a_token_expires_after_the_chosen_days_and_then_is_401(world, settings):
    token = issue(world, days=7)
    stored = ApiToken.objects.get()
    assert abs((stored.expires_at - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)
    assert Client().get("/api/v1/patients/", headers=bearer(token)).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get("/api/v1/patients/", headers=bearer(token))
    assert response.status_code == 401 and response.json()["detail"]


def test_the_default_and_the_longest_expiry_is_the_setting(world, settings):
    issue(world)
    assert ApiToken.objects.get().expires_at > timezone.now() + timedelta(days=89)
    with pytest.raises(Exception) as refused:
        issue(world, days=settings.API_TOKEN_MAX_DAYS + 1)
    assert "days" in refused.value.message_dict
    response = world.client("clinic_admin").post(
        "/accounts/api-tokens/", {"user": world.users["nurse"].pk, **ISSUE, "days": 365}
    )
    assert response.status_code == 422 and ApiToken.objects.count() == 1


def test_a_revoked_token_is_401(world):
    token = issue(world)
    services.revoke_api_token(actor=world.users["clinic_admin"], token=ApiToken.objects.get())
    assert Client().get("/api/v1/patients/", headers=bearer(token)).status_code == 401


def test_a_read_only_token_reads_but_cannot_write(world):
    token = issue(world, scope="read")
    client = Client()
    assert client.get("/api/v1/patients/", headers=bearer(token)).status_code == 200
    before = AuditEvent.objects.count()
    response = client.post(
        "/api/v1/patients/", "{}", content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token is read-only: it can only read, not change."
    assert AuditEvent.objects.exclude(outcome="denied").count() == before
    assert AuditEvent.objects.filter(outcome="denied").count() == 1


def test_a_read_write_token_reaches_the_write_operations(world):
    token = issue(world, scope="write")
    response = Client().post(
        "/api/v1/patients/", "{}", content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 422  # past authentication: the (empty) input is refused


def test_a_token_works_without_session_totp_for_a_physician(world):
    token = issue(world, persona="physician")
    assert Client().get("/api/v1/patients/", headers=bearer(token)).status_code == 200


def test_token_use_is_audited_with_the_token_id(world):
    token = issue(world)
    stored = ApiToken.objects.get()
    Client().get("/api/v1/patients/", headers=bearer(token))
    event = AuditEvent.objects.get(action="search", channel="api")
    assert event.changes["api_token"] == [None, stored.pk]
    assert f"API token #{stored.pk}" in event.summary
    # A session request writes no token id.
    world.client("nurse").get("/api/v1/patients/")
    latest = AuditEvent.objects.filter(action="search").order_by("-pk").first()
    assert "api_token" not in latest.changes


def test_last_used_is_written_at_most_once_a_minute(world):
    token = issue(world)
    client = Client()

    def token_updates() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/patients/", headers=bearer(token)).status_code == 200
        return sum(
            1
            for q in queries.captured_queries
            if q["sql"].startswith("UPDATE") and "accounts_apitoken" in q["sql"]
        )

    assert token_updates() == 1
    assert token_updates() == 0
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(seconds=61))
    assert token_updates() == 1
    assert ApiToken.objects.get().last_used_at > timezone.now() - timedelta(seconds=5)


def test_the_token_list_shows_owner_scope_dates_and_status(world):
    issue(world, name="Lab feed", scope="write", days=30)
    issue(world, name="Old feed")
    old = ApiToken.objects.get(name="Old feed")
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page = world.client("clinic_admin").get("/accounts/api-tokens/").content.decode()
    for text in ("Lab feed", "Read and write", "Read only", "Expired", "Active", "issued by"):
        assert text in page
    assert page.count('data-testid="token-row"') == 2


# --- sessions -------------------------------------------------------------------------------


def test_a_staff_session_ends_after_the_maximum_age_even_when_active(world, settings):
    client = world.client("nurse")
    assert client.get("/patients/").status_code == 200
    set_session(client, **{AUTH_AT: int(time.time()) - settings.STAFF_SESSION_MAX_AGE_SECONDS - 1})
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/patients/").status_code == 302  # signed out


def test_an_api_session_past_the_maximum_age_is_401(world, settings):
    client = world.client("nurse")
    set_session(client, **{AUTH_AT: int(time.time()) - settings.STAFF_SESSION_MAX_AGE_SECONDS - 1})
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401 and "Sign in again" in response.json()["detail"]


def test_patients_keep_only_their_idle_timeout(world, settings):
    client = world.client("patient")
    set_session(client, **{AUTH_AT: int(time.time()) - settings.STAFF_SESSION_MAX_AGE_SECONDS - 1})
    assert client.get("/portal/").status_code == 200


def test_a_non_admin_cannot_issue_tokens_in_the_service(world):
    with pytest.raises(PermissionDenied):
        services.create_api_token(
            actor=world.users["physician"],
            user=world.users["nurse"],
            name="x",
            step_up_at=timezone.now(),
        )
    assert not ApiToken.objects.exists() and not AuditEvent.objects.exists()
