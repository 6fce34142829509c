"""The only place that knows both worlds: ORM rows ↔ clinic_rules data for scheduling.

Re-treatment intervals come from `clinic_rules.retreatment_interval`; the 12-week target is the
chronic-migraine schedule rule; nothing clinical is typed here.

Other apps are read lazily (treatments, diaries), so scheduling works before they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.apps import apps
from django.db.models import Max

from clinic_rules import retreatment_interval
from clinic_rules.data import default_policy, rule

# The rhythm the program is built around ("every 12 weeks"): the chronic-migraine schedule.
_TARGET_INDICATION = "chronic_migraine"


@dataclass(frozen=True)
class Interval:
    indication: str
    min_days: int
    target_days: int
    payer_days: int
    rule_id: str
    confirmed: bool

    @property
    def enforce(self) -> bool:
        """Only a confirmed rule may refuse a booking; unconfirmed ones inform."""
        return self.confirmed


def is_pediatric(age_years: int) -> bool:
    return age_years < rule("BTX-PEDIATRIC-AGE").int_("adult_age")


def age_on(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def interval_for(indication: str, *, pediatric: bool = False) -> Interval:
    try:
        found = retreatment_interval(indication, pediatric=pediatric)
    except KeyError:
        found = retreatment_interval(_TARGET_INDICATION)
    min_days = int(found["min_days"])  # type: ignore[call-overload]
    target = max(min_days, int(retreatment_interval(_TARGET_INDICATION)["min_days"]))  # type: ignore[call-overload]
    # Payers: "no more frequently than every 12 weeks", windows written as N days (policy).
    payer = max(min_days, default_policy().window_days)
    return Interval(
        indication, min_days, target, payer, str(found["rule_id"]), bool(found["confirmed"])
    )


def diaries_ready() -> bool:
    return apps.is_installed("bontrack.diaries")


def treatments_ready() -> bool:
    return apps.is_installed("bontrack.treatments")


def last_signed_sessions(patient_ids: list[int] | None = None, clinic_id: int | None = None):  # type: ignore[no-untyped-def]
    """{(patient_id, indication): last performed_at} over signed sessions, one query."""
    if not treatments_ready():
        return {}
    from bontrack.treatments.models import TreatmentSession

    qs = TreatmentSession.objects.filter(status="signed")
    if patient_ids is not None:
        qs = qs.filter(patient_id__in=patient_ids)
    if clinic_id is not None:
        qs = qs.filter(patient__clinic_id=clinic_id)
    rows = qs.values("patient_id", "indication").annotate(last=Max("performed_at"))
    return {(r["patient_id"], r["indication"]): r["last"] for r in rows}


def last_signed_days(*, clinic_id: int, tz: object) -> list[tuple[int, str, date, date]]:
    """[(patient_id, indication, date of birth, local date of the last signed session)] for the
    clinic's active patients, one GROUP BY query; the local date is computed in SQL."""
    if not treatments_ready():
        return []
    from django.db.models.functions import TruncDate

    from bontrack.treatments.models import TreatmentSession

    return list(
        TreatmentSession.objects.filter(
            status="signed", patient__clinic_id=clinic_id, patient__status="active"
        )
        .values_list("patient_id", "indication", "patient__date_of_birth")
        .annotate(last=Max(TruncDate("performed_at", tzinfo=tz)))
        .order_by()
    )


def last_signed_day_ordinals(*, clinic_id: int, tz: object) -> list[tuple[int, str, int, int]]:
    """Like `last_signed_days`, with both dates as `date.toordinal()` integers.

    On PostgreSQL the database computes the ordinals (integers load far faster than dates
    through psycopg's Python loaders: the recall list reads one row per active patient)."""
    from django.db import connection

    if connection.vendor != "postgresql" or not treatments_ready():
        return [
            (patient_id, indication, dob.toordinal(), day.toordinal())
            for patient_id, indication, dob, day in last_signed_days(clinic_id=clinic_id, tz=tz)
        ]
    from bontrack.patients.models import Patient
    from bontrack.treatments.models import TreatmentSession

    sessions, patients = TreatmentSession._meta.db_table, Patient._meta.db_table
    sql = f"""
        SELECT s.patient_id, s.indication, (p.date_of_birth - DATE '0001-01-01') + 1,
               MAX(((s.performed_at AT TIME ZONE %s)::date - DATE '0001-01-01') + 1)
        FROM {sessions} s JOIN {patients} p ON p.id = s.patient_id
        WHERE s.status = 'signed' AND p.clinic_id = %s AND p.status = 'active'
        GROUP BY s.patient_id, s.indication, p.date_of_birth
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(tz), clinic_id])
        return cursor.fetchall()


def adult_born_on_or_before(today: date) -> date:
    """Born on or before this date → adult today (same rule as `is_pediatric(age_on(...))`)."""
    years = rule("BTX-PEDIATRIC-AGE").int_("adult_age")
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February → 28 February
        return today.replace(year=today.year - years, day=28)


def last_signed_session(patient_id: int, indication: str) -> datetime | None:
    return last_signed_sessions([patient_id]).get((patient_id, indication))


def last_products(patient_ids: list[int]) -> dict[tuple[int, str], str]:
    """{(patient_id, indication): product of the last signed session}, one query."""
    if not treatments_ready():
        return {}
    from bontrack.treatments.models import TreatmentSession

    out: dict[tuple[int, str], str] = {}
    for patient_id, indication, product in (
        TreatmentSession.objects.filter(patient_id__in=patient_ids, status="signed")
        .order_by("performed_at", "id")
        .values_list("patient_id", "indication", "product")
    ):
        out[(patient_id, indication)] = product
    return out


def default_product() -> str:
    if not treatments_ready():
        return ""
    from bontrack.treatments.models import DEFAULT_PRODUCT

    return DEFAULT_PRODUCT


def vials_on_hand(
    clinic_ids: list[int], after: date
) -> dict[tuple[int, str], list[tuple[date, int]]]:
    """{(clinic, product): [(lot expiry, in-stock vials)]} for lots expiring after `after`."""
    if not apps.is_installed("bontrack.inventory"):
        return {}
    from django.db.models import Count

    from bontrack.inventory.models import Vial

    out: dict[tuple[int, str], list[tuple[date, int]]] = {}
    for row in (
        Vial.objects.filter(clinic_id__in=clinic_ids, status="in_stock", lot__expiry__gt=after)
        .values("clinic_id", "lot__product", "lot__expiry")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out.setdefault((row["clinic_id"], row["lot__product"]), []).append(
            (row["lot__expiry"], row["n"])
        )
    return out


def inventory_ready() -> bool:
    return apps.is_installed("bontrack.inventory")


def open_adverse_effects(patient_ids: list[int]) -> set[int]:
    if not treatments_ready():
        return set()
    from bontrack.treatments.models import AdverseEffect

    return set(
        AdverseEffect.objects.filter(patient_id__in=patient_ids, status="open").values_list(
            "patient_id", flat=True
        )
    )


def consent_dates(patient_ids: list[int]) -> dict[int, datetime]:
    """Date of the last signed session with consent recorded, per patient."""
    if not treatments_ready():
        return {}
    from bontrack.treatments.models import TreatmentSession

    rows = (
        TreatmentSession.objects.filter(
            patient_id__in=patient_ids, status="signed", consent_obtained=True
        )
        .values("patient_id")
        .annotate(last=Max("performed_at"))
    )
    return {r["patient_id"]: r["last"] for r in rows}


def diary_days(patient_ids: list[int], since: date, until: date) -> dict[int, int]:
    """Number of diary days recorded per patient in [since, until]."""
    if not apps.is_installed("bontrack.diaries"):
        return {}
    from django.db.models import Count

    from bontrack.diaries.models import DiaryDay

    rows = (
        DiaryDay.objects.filter(patient_id__in=patient_ids, date__gte=since, date__lte=until)
        .values("patient_id")
        .annotate(n=Count("id"))
    )
    return {r["patient_id"]: r["n"] for r in rows}


def due_dates(last: datetime, interval: Interval, tz: object) -> tuple[date, date, date]:
    """(earliest allowed, target, payer-eligible) local dates after a session at `last`."""
    day = last.astimezone(tz).date()  # type: ignore[arg-type]
    return (
        day + timedelta(days=interval.min_days),
        day + timedelta(days=interval.target_days),
        day + timedelta(days=interval.payer_days),
    )
