"""The recall list: who is due for their next treatment, from the last signed session.

For each active patient of the clinic and each indication with a signed session:
earliest = last session + the indication's minimum interval (clinic_rules), target = last +
the 12-week rhythm, payer_from = last + the payer window (policy). Status (clinic policy,
`SchedulingSettings`): booked (a future treatment appointment exists), overdue (past target +
grace), due (from target − lead days), else not yet due. Four queries whatever the size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, decode_cursor, encode_cursor
from bontrack.patients.choices import PatientStatus
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


def recall_rows(*, clinic: Clinic, today: date | None = None) -> list[RecallRow]:
    tz = zone(clinic)
    today = today or timezone.now().astimezone(tz).date()
    policy = settings_for(clinic)
    last = facts.last_signed_sessions(clinic_id=clinic.pk)
    if not last:
        return []
    patients = {
        pk: (f"{last_name}, {first_name}", dob)
        for pk, first_name, last_name, dob in Patient.objects.filter(
            clinic=clinic, status=PatientStatus.ACTIVE
        ).values_list("id", "first_name", "last_name", "date_of_birth")
    }
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
    intervals: dict[tuple[str, bool], facts.Interval] = {}
    rows: list[RecallRow] = []
    for (patient_id, indication), performed_at in last.items():
        if patient_id not in patients:
            continue
        name, dob = patients[patient_id]
        pediatric = facts.is_pediatric(facts.age_on(dob, today))
        key = (indication, pediatric)
        if key not in intervals:
            intervals[key] = facts.interval_for(indication, pediatric=pediatric)
        earliest, target, payer_from = facts.due_dates(performed_at, intervals[key], tz)
        booked_at = booked.get(patient_id)
        if booked_at is not None:
            status = "booked"
        elif today > target + timedelta(days=policy.overdue_grace_days):
            status = "overdue"
        elif today >= target - timedelta(days=policy.recall_lead_days):
            status = "due"
        else:
            status = "not_yet_due"
        rows.append(
            RecallRow(
                patient_id=patient_id,
                name=name,
                indication=indication,
                last_session=performed_at.astimezone(tz).date(),
                earliest=earliest,
                target=target,
                payer_from=payer_from,
                status=status,
                booked_at=booked_at,
            )
        )
    rows.sort(key=lambda r: (r.target, r.patient_id, r.indication))
    return rows


def recall_page(
    *, clinic: Clinic, status: str, cursor: str | None, size: int, today: date | None
) -> RecallPage:
    rows = recall_rows(clinic=clinic, today=today)
    counts = dict.fromkeys(STATUSES, 0)
    for r in rows:
        counts[r.status] += 1
    if status:
        rows = [r for r in rows if r.status == status]
    if cursor:
        target, patient_id, indication = decode_cursor(cursor, 3)
        try:
            after = (date.fromisoformat(target), int(patient_id), str(indication))
        except (TypeError, ValueError) as exc:
            raise BadCursor("The page cursor is not valid.") from exc
        rows = [r for r in rows if (r.target, r.patient_id, r.indication) > after]
    items = rows[:size]
    next_cursor = (
        encode_cursor([items[-1].target, items[-1].patient_id, items[-1].indication])
        if len(rows) > size
        else None
    )
    return RecallPage(items=items, counts=counts, next_cursor=next_cursor)
