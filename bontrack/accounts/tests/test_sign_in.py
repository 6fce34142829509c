"""Sign-in, lockout, two-factor authentication and idle timeouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bontrack.audit.models import AuditEvent
from bontrack.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(
    client: Client, username: str, password: str = TEST_PASSWORD, url: str = "/accounts/login/"
):
    return client.post(url, {"username": username, "password": password})


def test_front_desk_signs_in_and_lands_on_the_patient_list(world):
    client = Client()
    response = sign_in(client, "frontdesk")
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="login", actor__username="frontdesk").count() == 1


def test_a_physician_must_complete_totp_before_seeing_charts(world):
    client = Client()
    sign_in(client, "physician")
    response = client.get(f"/patients/{world.patient.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/2fa/?next=%2Fpatients%2F{world.patient.pk}%2F"
    enrol = client.get("/accounts/2fa/")
    assert b"<svg" in enrol.content  # QR code for the authenticator app
    device = TOTPDevice.objects.get(user__username="physician", confirmed=False)
    assert client.post("/accounts/2fa/", {"token": "000000"}).status_code == 422
    with time_machine.travel(
        timezone.now() + timedelta(seconds=5)
    ):  # django-otp throttles after a failure
        ok = client.post("/accounts/2fa/", {"token": f"{totp(device.bin_key):06d}"})
        assert ok.status_code == 302
        assert client.get(f"/patients/{world.patient.pk}/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_the_api_refuses_an_unverified_physician_session(world):
    client = Client()
    sign_in(client, "physician")
    response = client.get("/api/v1/patients/")
    assert response.status_code == 403
    assert "Two-factor" in response.json()["detail"]


def test_five_wrong_passwords_lock_the_account(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "nurse", "wrong-password").status_code == 200
    assert sign_in(client, "nurse", "wrong-password").status_code == 429  # the fifth failure locks
    locked = sign_in(client, "nurse")  # even the right password is refused now
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content


def test_a_patient_cannot_use_the_staff_sign_in(world):
    client = Client()
    response = sign_in(client, world.users["patient"].username)
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_a_patient_signs_in_to_the_portal(world):
    client = Client()
    response = sign_in(client, world.users["patient"].username, url="/portal/login/")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200 and b"Rosa" in home.content
    assert b"Adam" not in home.content


def test_staff_cannot_use_the_portal(world):
    client = Client()
    response = sign_in(client, "nurse", url="/portal/login/")
    assert response.status_code == 200
    assert world.client("nurse").get("/portal/").status_code == 403


@pytest.mark.parametrize("persona,seconds", [("front_desk", 15 * 60), ("patient", 30 * 60)])
def test_sessions_expire_after_the_idle_timeout(world, persona, seconds):
    client = world.client(persona)
    client.get("/portal/" if persona == "patient" else "/patients/")
    assert client.session.get_expiry_age() == seconds


def test_signing_out_ends_the_session(world):
    client = world.client("nurse")
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(action="logout").count() == 1


def test_a_totp_device_is_verified_on_later_sign_ins(world):
    user = world.users["clinic_admin"]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "clinicadmin")
    page = client.get("/accounts/2fa/")
    assert b"<svg" not in page.content  # no new enrolment once a device exists
    assert (
        client.post("/accounts/2fa/", {"token": f"{totp(device.bin_key):06d}"}).status_code == 302
    )
    assert client.get(f"/patients/{world.patient.pk}/access-log/").status_code == 200
