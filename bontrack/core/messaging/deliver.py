"""The outbox worker: claim due messages under a lease, send, finalise.

Claim (one short transaction): pending rows that are due, and `sending` rows whose lease
expired (their worker died), become `sending` with this worker's lease; attempts + 1.
PostgreSQL takes them with `SELECT … FOR UPDATE SKIP LOCKED`, so parallel workers never
claim the same row; SQLite transactions are IMMEDIATE, so claims are serialised.
Send: email over the configured backend with the Message-ID fixed at enqueue time, or SMS.
Finalise (one short transaction): `sent` only if this worker still holds the lease; a
failure goes back to `pending` with exponential backoff, or `failed` after MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from bontrack.core.messaging.outbox import decode_attachments
from bontrack.core.messaging.sms import get_sms_backend
from bontrack.core.models import OutboxMessage, OutboxStatus

log = logging.getLogger("bontrack.worker")

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
DEFAULT_LEASE_SECONDS = 120


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    )


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0
    claimed: int = 0


def claim(*, owner: str, now: datetime, limit: int, lease: timedelta) -> list[int]:
    with transaction.atomic():
        due = Q(status=OutboxStatus.PENDING, send_after__lte=now) | Q(
            status=OutboxStatus.SENDING, lease_until__lt=now
        )
        qs = OutboxMessage.objects.filter(due).order_by("send_after", "id")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            OutboxMessage.objects.filter(id__in=ids).update(
                status=OutboxStatus.SENDING,
                lease_owner=owner,
                lease_until=now + lease,
                attempts=F("attempts") + 1,
            )
    return ids


def _send(message: OutboxMessage, mail_connection: object) -> None:
    if message.channel == "email":
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message.message_id},
            connection=mail_connection,
        )
        for name, content, mimetype in decode_attachments(message):
            email.attach(name, content, mimetype)
        email.send(fail_silently=False)
    else:
        get_sms_backend().send(message.to, message.body)


def _finalise(message_id: int, owner: str, **changes: object) -> bool:
    with transaction.atomic():
        return bool(
            OutboxMessage.objects.filter(
                pk=message_id, status=OutboxStatus.SENDING, lease_owner=owner
            ).update(lease_owner="", lease_until=None, **changes)
        )


def run_once(
    *, owner: str | None = None, limit: int = 20, lease_seconds: int = DEFAULT_LEASE_SECONDS
) -> RunResult:
    """Deliver the messages that are due now (one claim of up to `limit`)."""
    owner = owner or worker_id()
    result = RunResult()
    ids = claim(
        owner=owner, now=timezone.now(), limit=limit, lease=timedelta(seconds=lease_seconds)
    )
    result.claimed = len(ids)
    if not ids:
        return result
    messages = {m.pk: m for m in OutboxMessage.objects.filter(pk__in=ids)}
    mail_connection = get_connection(fail_silently=False)
    try:
        if any(m.channel == "email" for m in messages.values()):
            try:
                mail_connection.open()
            except OSError as exc:  # the send below records the failure per message
                log.warning("outbox: cannot open the mail connection: %s", exc)
        for pk in ids:
            message = messages[pk]
            try:
                _send(message, mail_connection)
            except Exception as exc:  # noqa: BLE001 - any transport error is retried
                attempts = message.attempts + 1
                final = attempts >= MAX_ATTEMPTS
                _finalise(
                    pk,
                    owner,
                    status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
                    send_after=timezone.now() + backoff(attempts),
                    last_error=f"{type(exc).__name__}: {exc}"[:500],
                )
                result.failed += 1
                log.warning("outbox %s attempt %s failed: %s", pk, attempts, exc)
                mail_connection = get_connection(fail_silently=False)
            else:
                if _finalise(pk, owner, status=OutboxStatus.SENT, sent_at=timezone.now()):
                    result.sent += 1
                else:
                    log.error("outbox %s: lease lost before finalising (sent late)", pk)
    finally:
        close = getattr(mail_connection, "close", None)
        if callable(close):
            close()
    return result


def drain(*, owner: str | None = None, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> RunResult:
    """Deliver everything due now (tests and `bontrack worker --once`)."""
    total = RunResult()
    while True:
        r = run_once(owner=owner, lease_seconds=lease_seconds)
        total.sent += r.sent
        total.failed += r.failed
        total.claimed += r.claimed
        if not r.claimed or r.sent + r.failed == 0:
            return total
