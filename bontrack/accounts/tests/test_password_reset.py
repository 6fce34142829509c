"""Password reset by e-mail (through the outbox and the worker), the administrator's one-time password,
and the forced change of one-time passwords."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bontrack.accounts import services
from bontrack.accounts.models import User
from bontrack.audit.models import AuditEvent
from bontrack.core.models import OutboxMessage
from bontrack.core.tests.smtp import smtp_server  # noqa: F401 - the aiosmtpd fixture
from bontrack.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-2026"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def emails(world):
    world.users["nurse"].email = "nurse@example.org"
    world.users["nurse"].save()
    world.users["patient"].email = "rosa@example.org"
    world.users["patient"].save()
    return world


def ask(client: Client, email: str, ip: str = "10.0.0.1"):
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=ip)


def test_the_answer_is_the_same_whether_or_not_the_address_exists(emails):
    known = ask(Client(), "nurse@example.org")
    unknown = ask(Client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password-reset/sent/"
    page = Client().get("/accounts/password-reset/sent/")
    assert b"Check your e-mail" in page.content
    assert list(OutboxMessage.objects.values_list("to", flat=True)) == ["nurse@example.org"]


def test_a_bad_address_is_a_form_error(emails):
    response = Client().post("/accounts/password-reset/", {"email": "not an address"})
    assert response.status_code == 422 and not OutboxMessage.objects.exists()


def test_requests_are_limited_per_address_with_the_same_answer(emails, settings):
    settings.PASSWORD_RESET_PER_HOUR = 2
    answers = {ask(Client(), "nurse@example.org", ip=f"10.0.0.{n}")["Location"] for n in range(4)}
    assert answers == {"/accounts/password-reset/sent/"}
    assert OutboxMessage.objects.count() == 2


def test_requests_are_limited_per_ip(emails, settings):
    settings.PASSWORD_RESET_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert ask(Client(), f"x{n}@example.org").status_code == 302
    limited = ask(Client(), "nurse@example.org")
    assert limited.status_code == 429 and b"Too many" in limited.content
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker command manages its own connection
@pytest.mark.parametrize(
    "persona,login_url", [("nurse", "/accounts/login/"), ("patient", "/portal/login/")]
)
def test_the_mailed_link_sets_a_new_password_once(
    emails,
    settings,
    smtp_server,  # noqa: F811
    persona,
    login_url,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.PUBLIC_BASE_URL = "http://testserver"
    user = emails.users[persona]
    assert ask(Client(), user.email).status_code == 302
    call_command("worker", "--once")
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["To"] == user.email and "Reset your BoNTrack password" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", body).group(1)

    client = Client()
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == login_url
    assert b"Your password was changed" in client.get(login_url).content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="password_reset", actor=user).count() == 1
    # The link works once.
    again = Client().get(link, follow=True)
    assert b"This link no longer works" in again.content


def test_a_forged_link_does_not_work(emails):
    response = Client().get("/accounts/reset/MQ/abc-123/", follow=True)
    assert b"This link no longer works" in response.content


def test_the_reset_also_clears_a_pending_one_time_password(emails):
    nurse = emails.users["nurse"]
    User.objects.filter(pk=nurse.pk).update(must_change_password=True)
    ask(Client(), nurse.email)
    body = OutboxMessage.objects.get().body
    link = re.search(r"https?://\S+(/accounts/reset/\S+/)", body).group(1)
    client = Client()
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not User.objects.get(pk=nurse.pk).must_change_password


# --- the administrator's reset ----------------------------------------------------------------


def test_an_admin_resets_a_password_and_the_user_must_change_it(world):
    admin_client = world.client("clinic_admin")
    nurse = world.users["nurse"]
    response = admin_client.post(f"/accounts/staff/{nurse.pk}/password/")
    assert response.status_code == 200
    password = response.content.decode().split('data-testid="new-password">')[1].split("<")[0]
    nurse.refresh_from_db()
    assert nurse.must_change_password and nurse.check_password(password)
    assert not nurse.check_password(TEST_PASSWORD)
    assert AuditEvent.objects.filter(object_id=str(nurse.pk), action="update").count() == 1

    client = Client()
    client.post("/accounts/login/", {"username": "nurse", "password": password})
    assert client.get("/patients/")["Location"] == "/accounts/password/"
    api = client.get("/api/v1/patients/")
    assert api.status_code == 403 and "one-time password" in api.json()["detail"]
    page = client.get("/accounts/password/")
    assert b"one-time password" in page.content
    client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert client.get("/patients/").status_code == 200


def test_an_admin_cannot_reset_their_own_password_here(world):
    admin = world.users["clinic_admin"]
    with pytest.raises(services.Conflict):
        services.reset_staff_password(actor=admin, user=admin, step_up_at=timezone.now())
    assert not AuditEvent.objects.exists()


def test_demo_staff_are_not_forced_to_change_their_password(db):
    from datetime import date

    from bontrack.ops.seed import seed_demo

    seed_demo(today=date(2026, 6, 1), patients=5)
    assert User.objects.filter(practice__isnull=False).exists()
    assert not User.objects.filter(must_change_password=True).exists()
