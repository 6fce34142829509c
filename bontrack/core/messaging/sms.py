"""Pluggable SMS delivery. Settings/env `SMS_BACKEND` names a class with `send(to, body) -> str`."""

from __future__ import annotations

import os
import sys
import uuid
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str: ...


class ConsoleSmsBackend:
    """Prints the text message (the default: no provider is configured)."""

    def send(self, to: str, body: str) -> str:
        sys.stdout.write(f"[sms to {to}] {body}\n")
        sys.stdout.flush()
        return f"console-{uuid.uuid4().hex[:12]}"


class LocmemSmsBackend:
    """Keeps messages in memory (tests)."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        LocmemSmsBackend.outbox.append((to, body))
        return f"locmem-{len(LocmemSmsBackend.outbox)}"


def get_sms_backend() -> SmsBackend:
    path = (
        getattr(settings, "SMS_BACKEND", "")
        or os.environ.get("SMS_BACKEND", "")
        or "bontrack.core.messaging.sms.ConsoleSmsBackend"
    )
    return import_string(path)()
