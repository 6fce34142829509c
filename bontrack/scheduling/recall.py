"""The recall list: who is due for their next treatment, from the last signed session.

For each active patient of the clinic and each indication with a signed session:
earliest = last session + the indication's minimum interval (clinic_rules), target = last +
the 12-week rhythm, payer_from = last + the payer window (policy). Status (clinic policy,
`SchedulingSettings`): booked (a future treatment appointment exists), overdue (past target +
grace), due (from target − lead days), else not yet due. Three queries whatever the size.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.db.models import Min
from django.utils import timezone

from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, decode_cursor, encode_cursor
from bontrack.patients.models import Patient
from bontrack.scheduling import facts
from bontrack.scheduling.availability import settings_for, zone
from bontrack.scheduling.models import Appointment, Kind, Status

__all__ = ["BadCursor", "RecallRow", "recall_page", "recall_rows"]
STATUSES = ("overdue", "due", "booked", "not_yet_due")


@dataclass(frozen=True)
class RecallRow:
    patient_id: int
    name: str
    indication: str
    last_session: date
    earliest: date
    target: date
    payer_from: date
    status: str
    booked_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RecallPage:
    items: list[RecallRow]
    counts: dict[str, int]
    next_cursor: str | None


# One compact entry per (patient, indication), before names are loaded (only for the page):
# (target ordinal, patient id, indication, last-session ordinal, min days, payer days, status,
# first booked treatment). Day ordinals (`date.toordinal()`) make the loop integer arithmetic.
_Entry = tuple[int, int, str, int, int, int, str, datetime | None]


def _due_entries(*, clinic: Clinic, today: date | None) -> list[_Entry]:
    """Every (patient, indication) of the clinic's active patients with its recall status.

    Two queries whatever the size: the last signed session per (patient, indication) as a
    *local day* computed by the database (GROUP BY over the index
    `session_patient_status (patient, status, performed_at)`; on PostgreSQL the days come back
    as integers, far cheaper to load than 5,000 dates or time-zone-aware datetimes), and the
    first future treatment booking per patient.
    """
    tz = zone(clinic)
    today = today or timezone.now().astimezone(tz).date()
    policy = settings_for(clinic)
    last = facts.last_signed_day_ordinals(clinic_id=clinic.pk, tz=tz)
    if not last:
        return []
    booked = dict(
        Appointment.objects.filter(
            clinic=clinic,
            status=Status.BOOKED,
            appointment_type__kind=Kind.TREATMENT,
            starts_at__gte=timezone.now(),
        )
        .values("patient_id")
        .annotate(first=Min("starts_at"))
        .values_list("patient_id", "first")
    )
    adult_cutoff = facts.adult_born_on_or_before(today).toordinal()
    today_ord = today.toordinal()
    # overdue: today > target + grace; due: today >= target - lead (target = last + days).
    overdue_before = today_ord - policy.overdue_grace_days
    due_from = today_ord + policy.recall_lead_days
    intervals: dict[tuple[str, bool], tuple[int, int, int]] = {}
    out: list[_Entry] = []
    append = out.append
    for patient_id, indication, dob, day in last:
        key = (indication, dob > adult_cutoff)
        found = intervals.get(key)
        if found is None:
            i = facts.interval_for(indication, pediatric=key[1])
            found = intervals[key] = (i.min_days, i.target_days, i.payer_days)
        target = day + found[1]
        booked_at = booked.get(patient_id)
        if booked_at is not None:
            status = "booked"
        elif target < overdue_before:
            status = "overdue"
        elif target <= due_from:
            status = "due"
        else:
            status = "not_yet_due"
        append((target, patient_id, indication, day, found[0], found[2], status, booked_at))
    return out


def _rows(entries: list[_Entry]) -> list[RecallRow]:
    names = (
        {
            pk: f"{last_name}, {first_name}"
            for pk, first_name, last_name in Patient.objects.filter(
                pk__in={e[1] for e in entries}
            ).values_list("id", "first_name", "last_name")
        }
        if entries
        else {}
    )
    day = date.fromordinal
    return [
        RecallRow(
            patient_id=patient_id,
            name=names.get(patient_id, ""),
            indication=indication,
            last_session=day(last),
            earliest=day(last + min_days),
            target=day(target),
            payer_from=day(last + payer_days),
            status=status,
            booked_at=booked_at,
        )
        for target, patient_id, indication, last, min_days, payer_days, status, booked_at in entries
    ]


def recall_rows(*, clinic: Clinic, today: date | None = None) -> list[RecallRow]:
    """The whole list (API exports, tests). The page uses `recall_page`."""
    entries = sorted(_due_entries(clinic=clinic, today=today), key=lambda e: e[:3])
    return _rows(entries)


def recall_page(
    *, clinic: Clinic, status: str, cursor: str | None, size: int, today: date | None
) -> RecallPage:
    """One page (keyset on (target, patient, indication)) and the counts per status.

    The counts come from the same pass over the compact entries; only the `size` rows shown
    get their names loaded (one query), so rendering does not grow with the list.
    """
    after: tuple[int, int, str] | None = None
    if cursor:
        target, patient_id, indication = decode_cursor(cursor, 3)
        try:
            after = (date.fromisoformat(target).toordinal(), int(patient_id), str(indication))
        except (TypeError, ValueError) as exc:
            raise BadCursor("The page cursor is not valid.") from exc
    entries = _due_entries(clinic=clinic, today=today)
    counts = dict.fromkeys(STATUSES, 0)
    for e in entries:
        counts[e[6]] += 1
    chosen = [
        e for e in entries if (not status or e[6] == status) and (after is None or e[:3] > after)
    ]
    first = heapq.nsmallest(size + 1, chosen, key=lambda e: e[:3])
    items = _rows(first[:size])
    next_cursor = (
        encode_cursor([items[-1].target, items[-1].patient_id, items[-1].indication])
        if len(first) > size
        else None
    )
    return RecallPage(items=items, counts=counts, next_cursor=next_cursor)
