"""Scheduling fixtures: the world's clinic A1 with its default types, a room and working hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

import pytest

from bontrack.core.tests.smtp import smtp_server  # noqa: F401 - the aiosmtpd fixture
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
