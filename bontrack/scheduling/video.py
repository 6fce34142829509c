"""Video visits on both sides: when the room opens, and the clinician's join action.

The room address comes from the configured video service (`links.video_room_url`, setting
`VIDEO_ROOM_URL_TEMPLATE`). Patients only ever reach it through the waiting room
(`/visit/<token>/`); staff through `/schedule/appointments/<id>/join/`, which checks scope,
audits the join and then redirects. Both open `OPENS_BEFORE` before the start (program policy,
not a clinical number) and close at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from bontrack.scheduling.availability import zone
from bontrack.scheduling.models import Appointment, Status

OPENS_BEFORE = timedelta(minutes=10)
JOINABLE = (Status.BOOKED, Status.CHECKED_IN)


@dataclass(frozen=True)
class Window:
    is_video: bool
    open: bool
    ended: bool
    opens_local: datetime | None

    @property
    def opens_text(self) -> str:
        return f"Video opens at {self.opens_local:%H:%M}" if self.opens_local else ""


def window(appointment: Appointment, now: datetime | None = None) -> Window:
    if not appointment.video_token or appointment.status not in JOINABLE:
        return Window(False, False, False, None)
    now = now or timezone.now()
    opens = appointment.starts_at - OPENS_BEFORE
    return Window(
        True,
        opens <= now <= appointment.ends_at,
        now > appointment.ends_at,
        opens.astimezone(zone(appointment.clinic)),
    )
