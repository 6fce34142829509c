"""iCalendar output (RFC 5545) with the `icalendar` package: one event, or a clinician's feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from icalendar import Calendar, Event, vText

from bontrack.scheduling.models import Appointment, Status

PRODID = "-//BoNTrack//Scheduling//EN"


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@bontrack"


def _event(appointment: Appointment, *, summary: str, description: str, location: str) -> Event:
    event = Event()
    event.add("uid", uid(appointment))
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("sequence", appointment.sequence)
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if location:
        event["location"] = vText(location)
    event.add("status", "CANCELLED" if appointment.status == Status.CANCELLED else "CONFIRMED")
    return event


def _calendar(method: str | None = None, name: str = "") -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def appointment_ics(
    appointment: Appointment, *, summary: str, description: str, location: str
) -> bytes:
    method = "CANCEL" if appointment.status == Status.CANCELLED else "PUBLISH"
    cal = _calendar(method)
    cal.add_component(
        _event(appointment, summary=summary, description=description, location=location)
    )
    return cal.to_ical()


def feed_ics(appointments: Iterable[Appointment], *, name: str) -> bytes:
    """A clinician's subscription feed. Minimal PHI: type and patient initials, no names."""
    cal = _calendar(name=name)
    for a in appointments:
        initials = f"{a.patient.first_name[:1]}.{a.patient.last_name[:1]}."
        cal.add_component(
            _event(
                a,
                summary=f"{a.appointment_type.name} — {initials}",
                description=f"{a.clinic.name}. Open BoNTrack for details.",
                location=a.room.name if a.room_id and a.room else "",
            )
        )
    return cal.to_ical()
