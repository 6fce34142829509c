"""The outbox: exactly one row per dedupe key, delivered over real SMTP, retried with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bontrack.core.messaging import deliver
from bontrack.core.messaging.outbox import enqueue_message
from bontrack.core.messaging.sms import LocmemSmsBackend
from bontrack.core.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return smtp_server


def _enqueue(key: str, **kw):
    with transaction.atomic():
        return enqueue_message(
            channel=kw.pop("channel", "email"),
            to=kw.pop("to", "rosa@example.org"),
            subject=kw.pop("subject", "Hello"),
            body=kw.pop("body", "Body"),
            dedupe_key=key,
            send_after=kw.pop("send_after", timezone.now()),
            **kw,
        )


@pytest.mark.django_db(transaction=True)
def test_enqueue_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        enqueue_message(
            channel="email",
            to="a@example.org",
            subject="s",
            body="b",
            dedupe_key="k",
            send_after=timezone.now(),
        )


def test_the_same_dedupe_key_is_queued_once():
    first = _enqueue("reminder:1")
    second = _enqueue("reminder:1")
    assert first is not None and second is None
    assert OutboxMessage.objects.count() == 1


def test_a_rolled_back_change_leaves_no_message():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        enqueue_message(
            channel="email",
            to="a@example.org",
            subject="s",
            body="b",
            dedupe_key="k2",
            send_after=timezone.now(),
        )
        1 / 0  # noqa: B018
    assert not OutboxMessage.objects.exists()


def test_the_worker_delivers_due_email_once_with_its_message_id_and_attachment(smtp_settings):
    message = _enqueue(
        "confirm:1", attachments=[("appointment.ics", "BEGIN:VCALENDAR", "text/calendar")]
    )
    later = _enqueue("reminder:2", send_after=timezone.now() + timedelta(hours=1))
    result = deliver.drain()
    assert result.sent == 1
    assert smtp_settings.by_header("Message-ID") == [message.message_id]
    received = smtp_settings.messages[0]
    parts = [p.get_content_type() for p in received.walk()]
    assert "text/calendar" in parts
    assert deliver.drain().sent == 0  # nothing twice
    message.refresh_from_db()
    later.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    assert later.status == OutboxStatus.PENDING


def test_a_refused_message_is_retried_later_with_backoff(smtp_settings):
    message = _enqueue("confirm:3")
    smtp_settings.on_message = lambda m: False  # the server answers 451
    assert deliver.drain().failed == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.send_after > timezone.now() + timedelta(seconds=20)
    assert "451" in message.last_error or message.last_error
    smtp_settings.on_message = None
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
    assert deliver.drain().sent == 1
    assert len(smtp_settings.messages) == 1


def test_a_message_gives_up_after_the_maximum_attempts(smtp_settings):
    message = _enqueue("confirm:4")
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=deliver.MAX_ATTEMPTS - 1)
    smtp_settings.on_message = lambda m: False
    deliver.drain()
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED


def test_a_dead_workers_lease_expires_and_another_worker_delivers(smtp_settings):
    message = _enqueue("confirm:5")
    claimed = deliver.claim(
        owner="dead-worker", now=timezone.now(), limit=10, lease=timedelta(seconds=30)
    )
    assert claimed == [message.pk]
    assert deliver.drain(owner="live").sent == 0  # lease still held
    OutboxMessage.objects.filter(pk=message.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert deliver.drain(owner="live").sent == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 2


def test_sms_goes_through_the_pluggable_backend(settings):
    settings.SMS_BACKEND = "bontrack.core.messaging.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    _enqueue("sms:1", channel="sms", to="+15550001111", body="See you at 10:00")
    assert deliver.drain().sent == 1
    assert LocmemSmsBackend.outbox == [("+15550001111", "See you at 10:00")]
