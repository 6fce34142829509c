"""A real SMTP server (aiosmtpd) on loopback for the outbox tests: `smtp_server` fixture."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_message: object = None

    def by_header(self, name: str) -> list[str]:
        with self.lock:
            return [str(m[name]) for m in self.messages]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback that records what it accepts."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            message = message_from_bytes(envelope.content)
            hook = sink.on_message
            if callable(hook) and hook(message) is False:
                return "451 Requested action aborted"
            with sink.lock:
                sink.messages.append(message)
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        sink.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
