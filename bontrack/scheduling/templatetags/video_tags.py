from __future__ import annotations

from django import template

from bontrack.scheduling import video
from bontrack.scheduling.models import Appointment

register = template.Library()


@register.inclusion_tag("scheduling/_join_video.html")
def join_video(appointment: Appointment) -> dict[str, object]:
    """The clinician's "Join video" button: a link while the room is open, else when it opens."""
    return {"a": appointment, "w": video.window(appointment)}
