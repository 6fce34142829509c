"""Signed, expiring links for patients (manage a booking) and unguessable video rooms."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core import signing

MANAGE_SALT = "bontrack.scheduling.manage"
OFFER_SALT = "bontrack.scheduling.offer"
DEFAULT_VIDEO_TEMPLATE = "https://meet.jit.si/bontrack-{token}"


def link_max_age() -> int:
    return int(getattr(settings, "BOOKING_LINK_MAX_AGE_SECONDS", 0) or 60 * 24 * 3600)


def manage_token(appointment_id: int, sequence: int) -> str:
    return signing.dumps({"a": appointment_id, "s": sequence}, salt=MANAGE_SALT, compress=True)


def read_manage_token(token: str) -> tuple[int, int] | None:
    """(appointment id, sequence), or None if forged, altered or expired."""
    try:
        data = signing.loads(token, salt=MANAGE_SALT, max_age=link_max_age())
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    return data["a"], int(data.get("s", 0))


def manage_token_state(token: str) -> str:
    """Why a manage link does not open, in one word: "expired" (too old), "invalid" (forged or
    altered) or "" (the signature is good; the appointment may still have moved on)."""
    try:
        signing.loads(token, salt=MANAGE_SALT, max_age=link_max_age())
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    return ""


def offer_token(offer_id: int) -> str:
    return signing.dumps({"o": offer_id}, salt=OFFER_SALT, compress=True)


def read_offer_token(token: str, max_age: int) -> int | None:
    try:
        data = signing.loads(token, salt=OFFER_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return data.get("o") if isinstance(data, dict) and isinstance(data.get("o"), int) else None


def new_video_token() -> str:
    return secrets.token_urlsafe(24)


def video_room_url(token: str) -> str:
    template = (
        getattr(settings, "VIDEO_ROOM_URL_TEMPLATE", "")
        or os.environ.get("VIDEO_ROOM_URL_TEMPLATE", "")
        or DEFAULT_VIDEO_TEMPLATE
    )
    return template.format(token=token)


def public_base_url() -> str:
    return (
        getattr(settings, "PUBLIC_BASE_URL", "")
        or os.environ.get("PUBLIC_BASE_URL", "")
        or "http://127.0.0.1:8000"
    ).rstrip("/")
