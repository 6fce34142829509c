"""Personal calendar feeds: create, revoke, look up by token and audit reads and refusals."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.scheduling.models import (
    CalendarFeed,
)

# --- Calendar feeds -----------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic(durable=True)
def create_feed(*, actor: User) -> str:
    """A new feed URL token for the actor's own calendar; earlier feeds stay until revoked."""
    if actor is None or actor.scope(Perm.SCHEDULE_VIEW) is None:
        raise PermissionDenied("Calendar feeds are for clinic staff.")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    feed = CalendarFeed.objects.create(clinician=actor, key_id=key_id, secret_hash=_hash(secret))
    audit.record(actor=actor, action="create", obj=feed, summary="Calendar feed created")
    return f"{key_id}.{secret}"


@transaction.atomic(durable=True)
def revoke_feed(*, actor: User, feed: CalendarFeed) -> None:
    if feed.clinician_id != actor.pk:
        raise PermissionDenied("Only the owner may revoke a feed.")
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=feed,
        changes={"revoked_at": [None, feed.revoked_at]},
        summary="Calendar feed revoked",
    )


def feed_for_token(token: str) -> CalendarFeed | None:
    key_id, _, secret = token.partition(".")
    feed = (
        CalendarFeed.objects.filter(key_id=key_id, revoked_at__isnull=True)
        .select_related("clinician")
        .first()
    )
    if feed is None or not secrets.compare_digest(feed.secret_hash, _hash(secret)):
        return None
    return feed


def feed_owner_is_active(feed: CalendarFeed) -> bool:
    owner = feed.clinician
    return owner.is_staff_member and owner.scope(Perm.SCHEDULE_VIEW) is not None


def record_feed_read(*, feed: CalendarFeed, appointments: int) -> None:
    """A feed read shows the owner's appointments (patient initials): one `export` row."""
    audit.record(
        actor=feed.clinician,
        action="export",
        obj=feed,
        practice_id=feed.clinician.practice_id,
        summary=f"Calendar feed read: {appointments} appointments",
    )


def record_feed_refused(*, feed: CalendarFeed) -> None:
    """A feed whose owner is no longer active answers 404 and leaves one (rate-limited) denied row."""
    from bontrack.audit.hooks import record_refusal

    record_refusal(
        key=f"feed:{feed.pk}",
        obj=feed,
        practice_id=feed.clinician.practice_id,
        summary=f"Calendar feed {feed.key_id} refused: its owner's account is not active",
    )
