"""Transactional outbox for email and SMS.

`enqueue_message` writes a row inside the caller's transaction: the message exists if and
only if the change that caused it committed. `bontrack worker` delivers due rows (see
`deliver.py` and docs/scheduling.md for the exact delivery guarantee).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bontrack.core.models import OutboxMessage, OutboxStatus

CHANNELS = ("email", "sms")


def _message_id(dedupe_key: str) -> str:
    domain = getattr(settings, "OUTBOX_MESSAGE_ID_DOMAIN", "") or "bontrack.local"
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, dedupe_key).hex}.{uuid.uuid4().hex[:8]}@{domain}>"


def _encode(attachments: Sequence[tuple[str, str | bytes, str]] | None) -> list[dict[str, str]]:
    out = []
    for name, content, mimetype in attachments or []:
        raw = content.encode() if isinstance(content, str) else content
        out.append({"name": name, "mimetype": mimetype, "b64": base64.b64encode(raw).decode()})
    return out


def decode_attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    return [(a["name"], base64.b64decode(a["b64"]), a["mimetype"]) for a in message.attachments]


def enqueue_message(
    *,
    channel: str,
    to: str,
    subject: str,
    body: str,
    dedupe_key: str,
    send_after: datetime,
    patient: Any = None,
    attachments: Sequence[tuple[str, str | bytes, str]] | None = None,
    topic: str = "",
) -> OutboxMessage | None:
    """Queue one message, exactly once per `dedupe_key`; None when that key was already queued.

    Must run inside the caller's transaction (it refuses to run in autocommit).
    `topic` groups messages that a later change may cancel (e.g. "appointment:42").
    """
    if not connection.in_atomic_block:
        raise RuntimeError("enqueue_message() must run inside the caller's transaction")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    if timezone.is_naive(send_after):
        raise ValueError("send_after must be an aware datetime")
    if not to:
        return None
    if OutboxMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    message = OutboxMessage(
        channel=channel,
        to=to[:254],
        subject=subject[:200],
        body=body,
        attachments=_encode(attachments),
        dedupe_key=dedupe_key[:200],
        topic=topic[:80],
        patient=patient,
        send_after=send_after,
        message_id=_message_id(dedupe_key),
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # a concurrent transaction queued the same key first
        return None
    return message


def cancel_pending(*, topic: str) -> int:
    """Cancel the still-pending messages of a topic, inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("cancel_pending() must run inside the caller's transaction")
    return OutboxMessage.objects.filter(topic=topic, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.CANCELLED
    )
