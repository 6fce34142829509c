"""The only place that knows both worlds: ORM rows ↔ clinic_rules data for scheduling.

Re-treatment intervals come from `clinic_rules.retreatment_interval`; the 12-week target is the
program rhythm of `treatments.facts.retreatment_interval_days`; the pediatric age is clinic_rules'
`BTX-PEDIATRIC-AGE`; nothing clinical is typed here.

Other apps' rows are read through their model querysets and facts modules (treatments,
inventory, diaries sit below scheduling in the layers; none of them is optional).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Max
from django.db.models.functions import TruncDate

from bontrack.diaries import facts as diaries_facts
from bontrack.inventory.models import Vial
from bontrack.patients.models import Condition
from bontrack.treatments import facts as treatments_facts
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import DEFAULT_PRODUCT, AdverseEffect, TreatmentSession
from clinic_rules import retreatment_interval
from clinic_rules.data import default_policy, rule
from clinic_rules.dose import is_pediatric
from clinic_rules.model import age_on

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


def is_pediatric_on(birth_date: date, on: date) -> bool:
    """A child on that day (clinic_rules' completed years and BTX-PEDIATRIC-AGE)."""
    return is_pediatric(age_on(birth_date, on))


def interval_for(indication: str, *, pediatric: bool = False) -> Interval:
    try:
        found = retreatment_interval(indication, pediatric=pediatric)
    except KeyError:
        found = retreatment_interval(_TARGET_INDICATION)
    min_days = int(found["min_days"])  # type: ignore[call-overload]
    target = max(min_days, treatments_facts.retreatment_interval_days(indication))
    # Payers: "no more frequently than every 12 weeks", windows written as N days (policy).
    payer = max(min_days, default_policy().window_days)
    return Interval(
        indication, min_days, target, payer, str(found["rule_id"]), bool(found["confirmed"])
    )


def last_signed_sessions(patient_ids: list[int] | None = None, clinic_id: int | None = None):  # type: ignore[no-untyped-def]
    """{(patient_id, indication): last performed_at} over signed sessions, one query."""
    qs = TreatmentSession.objects.filter(status__in=GIVEN_STATUSES)
    if patient_ids is not None:
        qs = qs.filter(patient_id__in=patient_ids)
    if clinic_id is not None:
        qs = qs.filter(patient__clinic_id=clinic_id)
    rows = qs.values("patient_id", "indication").annotate(last=Max("performed_at"))
    return {(r["patient_id"], r["indication"]): r["last"] for r in rows}


def last_signed_days(*, clinic_id: int, tz: object) -> list[tuple[int, str, date, date]]:
    """[(patient_id, indication, date of birth, local date of the last signed session)] for the
    clinic's active patients, one GROUP BY query; the local date is computed in SQL."""
    return list(
        TreatmentSession.objects.filter(
            status__in=GIVEN_STATUSES, patient__clinic_id=clinic_id, patient__status="active"
        )
        .values_list("patient_id", "indication", "patient__date_of_birth")
        .annotate(last=Max(TruncDate("performed_at", tzinfo=tz)))
        .order_by()
    )


class _DayOrdinal(Func):
    """PostgreSQL: a date as its `date.toordinal()` integer, computed in SQL."""

    template = "((%(expressions)s) - DATE '0001-01-01') + 1"
    output_field = IntegerField()


def last_signed_day_ordinals(*, clinic_id: int, tz: object) -> list[tuple[int, str, int, int]]:
    """Like `last_signed_days`, with both dates as `date.toordinal()` integers.

    On PostgreSQL the database computes the ordinals (integers load far faster than dates
    through psycopg's Python loaders: the recall list reads one row per active patient); the
    query is the treatments model's queryset, run without the ORM's per-row converters."""
    if connection.vendor != "postgresql":
        return [
            (patient_id, indication, dob.toordinal(), day.toordinal())
            for patient_id, indication, dob, day in last_signed_days(clinic_id=clinic_id, tz=tz)
        ]
    sql, params = (
        TreatmentSession.objects.filter(
            status__in=GIVEN_STATUSES, patient__clinic_id=clinic_id, patient__status="active"
        )
        .values_list("patient_id", "indication")
        .annotate(
            dob=_DayOrdinal(F("patient__date_of_birth")),
            last=Max(_DayOrdinal(TruncDate("performed_at", tzinfo=tz))),
        )
        .values_list("patient_id", "indication", "dob", "last")
        .order_by()
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def last_signed_by_indication(patient_ids: list[int]) -> dict[tuple[int, str], datetime]:
    """{(patient_id, indication): last performed_at} over signed sessions, one query. A session of
    several indications counts for each of them (not only its first, ``indication``)."""
    out: dict[tuple[int, str], datetime] = {}
    for patient_id, first, indications, performed_at in TreatmentSession.objects.filter(
        patient_id__in=patient_ids, status__in=GIVEN_STATUSES
    ).values_list("patient_id", "indication", "indications", "performed_at"):
        for indication in indications or [first]:
            key = (patient_id, indication)
            if key not in out or performed_at > out[key]:
                out[key] = performed_at
    return out


def treated_indications(patient_ids: list[int]) -> dict[int, list[str]]:
    """{patient_id: the indications of the patient's active conditions, oldest first}, one query."""
    out: dict[int, list[str]] = {}
    for patient_id, indication in (
        Condition.objects.filter(patient_id__in=patient_ids, active=True)
        .order_by("id")
        .values_list("patient_id", "indication")
    ):
        if indication not in out.setdefault(patient_id, []):
            out[patient_id].append(indication)
    return out


def visit_indications(appointment_indication: str, treated: list[str]) -> list[str]:
    """What a treatment visit treats: its own indication when the patient is treated for it;
    otherwise (blank, or not one of the patient's conditions) every condition on file."""
    if appointment_indication in treated or not treated:
        return [appointment_indication] if appointment_indication else []
    return list(treated)


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
    out: dict[tuple[int, str], str] = {}
    for patient_id, indication, product in (
        TreatmentSession.objects.filter(patient_id__in=patient_ids, status__in=GIVEN_STATUSES)
        .order_by("performed_at", "id")
        .values_list("patient_id", "indication", "product")
    ):
        out[(patient_id, indication)] = product
    return out


def default_product() -> str:
    return DEFAULT_PRODUCT


def vials_on_hand(
    clinic_ids: list[int], after: date
) -> dict[tuple[int, str], list[tuple[date, int]]]:
    """{(clinic, product): [(lot expiry, in-stock vials)]} for lots expiring after `after`."""
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


def open_adverse_effects(patient_ids: list[int]) -> set[int]:
    return set(
        AdverseEffect.objects.filter(patient_id__in=patient_ids, status="open").values_list(
            "patient_id", flat=True
        )
    )


def consent_dates(patient_ids: list[int]) -> dict[int, datetime]:
    """Date of the last signed session with consent recorded, per patient."""
    rows = (
        TreatmentSession.objects.filter(
            patient_id__in=patient_ids, status__in=GIVEN_STATUSES, consent_obtained=True
        )
        .values("patient_id")
        .annotate(last=Max("performed_at"))
    )
    return {r["patient_id"]: r["last"] for r in rows}


def diary_days(patient_ids: list[int], since: date, until: date) -> dict[int, int]:
    """Number of diary days recorded per patient in [since, until]."""
    return diaries_facts.recorded_day_counts(patient_ids, since, until)


def due_dates(last: datetime, interval: Interval, tz: object) -> tuple[date, date, date]:
    """(earliest allowed, target, payer-eligible) local dates after a session at `last`."""
    day = last.astimezone(tz).date()  # type: ignore[arg-type]
    return (
        day + timedelta(days=interval.min_days),
        day + timedelta(days=interval.target_days),
        day + timedelta(days=interval.payer_days),
    )


def indication_label(code: str) -> str:
    """The protocol's plain label of an indication code (the code itself when unknown)."""
    from bontrack.treatments.facts.protocols import indication_label as label

    return label(code)
