"""Scheduling fixtures: the world's clinic A1 with its default types, a room and working hours."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from email import message_from_bytes
from email.message import Message

import pytest

from bontrack.scheduling.defaults import ensure_clinic_defaults
from bontrack.scheduling.models import AppointmentType, Room, WorkingHours

# A Monday, well in the future relative to the frozen "now" used in the tests.
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@dataclass
class Sched:
    world: object
    clinic: object
    room: Room
    types: dict[str, AppointmentType] = field(default_factory=dict)

    def type(self, code: str) -> AppointmentType:
        return self.types[code]


@pytest.fixture
def sched(world):
    clinic = world.clinic
    clinic.time_zone = "America/New_York"
    clinic.address = "1 Main St"
    clinic.save()
    ensure_clinic_defaults(clinic)
    room = Room.objects.create(clinic=clinic, name="Room 1")
    for persona in ("physician", "nurse"):
        for weekday in range(5):
            WorkingHours.objects.create(
                clinic=clinic,
                clinician=world.users[persona],
                weekday=weekday,
                start=time(9),
                end=time(17),
            )
    types = {t.code: t for t in AppointmentType.objects.filter(clinic=clinic)}
    return Sched(world, clinic, room, types)


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
