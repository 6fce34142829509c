"""Times shown in the zone of the clinic they belong to.

The accounts middleware activates one zone per request (the zone of a staff member's only clinic;
the project default otherwise), and Django's `date` and `time` template filters convert every
aware datetime to that active zone. A page of one clinic therefore renders inside
`timezone.override(clinic_zone(clinic))`; a list whose rows belong to several clinics converts
each row with `local()` (which the template filters then keep) and names the zone
(`zones_differ`) when the clinics of the list are not all in the same one.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.templatetags.tz import do_timezone


def clinic_zone(clinic: Any) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(clinic.time_zone)


def local(value: datetime | None, tz: zoneinfo.ZoneInfo | str) -> datetime | None:
    """`value` in `tz`, marked so that the template's `date`/`time` filters do not convert it
    again to the request's active zone (None stays None)."""
    if value is None:
        return None
    result: datetime = do_timezone(value, tz)
    return result


def zones_differ(clinics: Iterable[Any]) -> bool:
    """Whether the clinics (of a list's rows) are in more than one time zone."""
    return len({c.time_zone for c in clinics if c is not None}) > 1
