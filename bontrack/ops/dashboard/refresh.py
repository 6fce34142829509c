"""Recomputing one patient's share of the dashboard rollup.

``refresh_patients(ids)`` reads each patient's signed sessions, injections, adverse effects,
attended and missed appointments, eligibility and review decisions, and runs the practice's
response rules (clinic_rules, through ``treatments.facts``) for the assessment after two cycles.
It replaces the patient's ``PatientOutcome`` and ``OutcomeFact`` rows and moves the difference
into ``OutcomeBucket`` (so the buckets always equal the sum of the facts).

``run_marked(limit)`` is the ``outcomes.refresh`` job: it claims marked patients, refreshes them
and deletes only the marks it read (a write during the refresh leaves a newer mark).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from bontrack.diaries.models import EligibilityAssessment
from bontrack.outcomes.models import (
    OutcomeBucket,
    OutcomeFact,
    PatientOutcome,
    RefreshMark,
    Stage,
)
from bontrack.patients.choices import PatientStatus
from bontrack.patients.models import Condition, Patient
from bontrack.scheduling.models import Appointment, Status
from bontrack.treatments import facts as treatment_facts
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus, ReviewDecision
from bontrack.treatments.models import AdverseEffect, Injection, ResponseReview, TreatmentSession

# Program policy (issue 13, not a clinical number): a re-treatment is "on the 12-week rhythm" when
# it falls from the indication's re-treatment interval (clinic_rules, 12 weeks) up to two weeks
# later, i.e. within 12-14 weeks; later than that it is late, and a patient is overdue.
RHYTHM_GRACE_DAYS = 14
# Bins of the headache-day reduction after two cycles (display policy): 10 points wide.
REDUCTION_BINS = (
    "worse",
    "0-9%",
    "10-19%",
    "20-29%",
    "30-39%",
    "40-49%",
    "50-59%",
    "60-69%",
    "70-79%",
    "80-89%",
    "90-100%",
)

Key = tuple[int, int, str, date, str, str]  # clinic, physician, indication, month, metric, key


@dataclass
class _Fact:
    clinic_id: int
    physician_id: int
    indication: str
    month: date
    metric: str
    key: str
    n: int = 0
    total: float = 0.0


def reduction_bin(reduction: float) -> str:
    if reduction < 0:
        return REDUCTION_BINS[0]
    return REDUCTION_BINS[min(9, int(reduction // 10)) + 1]  # 100% falls in 90-100%


def rhythm_bounds(indication: str) -> tuple[int, int]:
    low = treatment_facts.retreatment_interval_days(indication)
    return low, low + RHYTHM_GRACE_DAYS


def _month(d: date) -> date:
    return d.replace(day=1)


def _local(at: datetime, tz: str) -> date:
    return timezone.localtime(at, zoneinfo.ZoneInfo(tz)).date()


def compute(patient: Patient, today: date) -> tuple[dict[str, Any], list[_Fact]]:
    """The patient's ``PatientOutcome`` fields and facts (about 12 queries, whatever the history)."""
    facts: dict[tuple[int, int, str, date, str, str], _Fact] = {}

    def add(clinic: int, phys: int, ind: str, day: date, metric: str, key: str, total: float = 0):
        k = (clinic, phys, ind, _month(day), metric, key)
        f = facts.get(k) or facts.setdefault(k, _Fact(clinic, phys, ind, _month(day), metric, key))
        f.n += 1
        f.total += total

    sessions = list(
        TreatmentSession.objects.filter(patient=patient, status__in=GIVEN_STATUSES)
        .order_by("performed_at", "id")
        .values(
            "id", "performed_at", "clinic_id", "clinic__time_zone", "signed_by_id", "indication"
        )
    )
    units: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for row in (
        Injection.objects.filter(
            session__patient=patient,
            session__status__in=GIVEN_STATUSES,
            status=InjectionStatus.DONE,
        )
        .values("session_id", "indication")
        .annotate(u=Sum("units"))
        .order_by()
    ):
        units[row["session_id"]].append((row["indication"], float(row["u"])))
    effects: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for ae in (
        AdverseEffect.objects.filter(patient=patient, session__status__in=GIVEN_STATUSES)
        .values("session_id", "kind")
        .annotate(c=Count("id"))
        .order_by()
    ):
        effects[ae["session_id"]].append((ae["kind"], ae["c"]))
    prev: date | None = None
    for s in sessions:
        day = _local(s["performed_at"], s["clinic__time_zone"])
        dims = (s["clinic_id"], s["signed_by_id"] or 0)
        add(*dims, s["indication"], day, "sessions", "")
        for ind, u in units.get(s["id"], []):
            add(*dims, ind, day, "units", "", u)
        for kind, count in effects.get(s["id"], []):
            for _ in range(count):
                add(*dims, s["indication"], day, "ae", kind)
        if prev is not None:
            low, high = rhythm_bounds(s["indication"])
            gap = (day - prev).days
            key = "early" if gap < low else "on_time" if gap <= high else "late"
            add(*dims, s["indication"], day, "interval", key, gap)
        prev = day

    indication = sessions[-1]["indication"] if sessions else ""
    if not indication:
        indication = (
            Condition.objects.filter(patient=patient, active=True)
            .order_by("id")
            .values_list("indication", flat=True)
            .first()
            or ""
        )
    eligibility = (
        EligibilityAssessment.objects.filter(patient=patient)
        .order_by("-decided_at", "-id")
        .values("decision", "decided_by_id")
        .first()
    )
    physician = sessions[-1]["signed_by_id"] if sessions else None
    if physician is None and eligibility:
        physician = eligibility["decided_by_id"]
    physician = physician or 0

    for a in Appointment.objects.filter(
        patient=patient,
        status__in=[Status.COMPLETED, Status.CHECKED_IN, Status.NO_SHOW],
        starts_at__lt=timezone.now(),
    ).values("clinic_id", "clinic__time_zone", "clinician_id", "indication", "starts_at", "status"):
        key = "no_show" if a["status"] == Status.NO_SHOW else "attended"
        add(
            a["clinic_id"],
            a["clinician_id"],
            a["indication"] or indication,
            _local(a["starts_at"], a["clinic__time_zone"]),
            "visits",
            key,
        )

    recheck_on = _assessment(patient, sessions, today, add)

    review = (
        ResponseReview.objects.filter(patient=patient)
        .order_by("-reviewed_at", "-id")
        .values_list("decision", "reviewed_at")
        .first()
    )
    last = (
        _local(sessions[-1]["performed_at"], sessions[-1]["clinic__time_zone"])
        if sessions
        else None
    )
    if sessions and (
        (review and review[0] == ReviewDecision.STOP and review[1] >= sessions[-1]["performed_at"])
        or patient.status == PatientStatus.INACTIVE
    ):
        stage = Stage.STOPPED
    elif sessions:
        stage = (
            Stage.EARLY
            if len(sessions) <= treatment_facts.review_min_cycles()
            else Stage.CONTINUING
        )
    elif eligibility and eligibility["decision"] == "eligible":
        stage = Stage.ELIGIBLE
    else:
        stage = Stage.CONSULTATION
    due_by = None
    if last is not None and stage in (Stage.EARLY, Stage.CONTINUING):
        due_by = last + timedelta(days=rhythm_bounds(indication)[1])
    outcome = {
        "practice_id": patient.practice_id,
        "clinic_id": patient.clinic_id,
        "physician_id": physician,
        "indication": indication,
        "stage": stage,
        "sessions": len(sessions),
        "first_session": (
            _local(sessions[0]["performed_at"], sessions[0]["clinic__time_zone"])
            if sessions
            else None
        ),
        "last_session": last,
        "due_by": due_by,
        "recheck_on": recheck_on,
    }
    return outcome, list(facts.values())


def _assessment(patient: Patient, sessions: Sequence[Any], today: date, add: Any) -> date | None:
    """The response after two cycles: the cycle-2 entry of the practice's response rules, as of
    the third session (or the day the third was due, once it has passed). Returns the day to
    look again when that day is still to come."""
    cm = treatment_facts.response_indication()
    cycles = treatment_facts.review_min_cycles()
    dates = sorted(
        {
            _local(s["performed_at"], s["clinic__time_zone"])
            for s in sessions
            if s["indication"] == cm
        }
    )
    if len(dates) < cycles:
        return None
    as_of = (
        dates[cycles]
        if len(dates) > cycles
        else dates[cycles - 1] + timedelta(days=rhythm_bounds(cm)[0])
    )
    if as_of > today:
        return as_of
    result = treatment_facts.run_response(patient, as_of)
    entries = (result or {}).get("cycles") or []
    if len(entries) < cycles or "responder" not in entries[cycles - 1]:
        return None
    entry = entries[cycles - 1]
    second = [s for s in sessions if s["indication"] == cm][cycles - 1]
    dims = (patient.clinic_id, second["signed_by_id"] or 0, cm)
    add(*dims, as_of, "responder", "yes" if entry["responder"] else "no")
    change = entry.get("headache_day_change_pct")
    if change is not None:
        add(*dims, as_of, "reduction", reduction_bin(-float(change)), -float(change))
    for instrument, score in (entry.get("scores") or {}).items():
        if isinstance(score, dict) and score.get("change") is not None:
            add(*dims, as_of, "scale", instrument, float(score["change"]))
    return None


def refresh_patients(patient_ids: Iterable[int], today: date | None = None) -> int:
    """Recompute the rollup of these patients, each in its own transaction. Returns how many."""
    today = today or timezone.localdate()
    done = 0
    for patient in Patient.objects.filter(pk__in=list(patient_ids)).order_by("pk"):
        _refresh_one(patient, today)
        done += 1
    return done


@transaction.atomic
def _refresh_one(patient: Patient, today: date) -> None:
    outcome, new = compute(patient, today)
    old = list(OutcomeFact.objects.filter(patient=patient))
    delta: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0])
    for f in old:
        k = (f.clinic_id, f.physician_id, f.indication, f.month, f.metric, f.key)
        delta[k][0] -= f.n
        delta[k][1] -= f.total
    for nf in new:
        k = (nf.clinic_id, nf.physician_id, nf.indication, nf.month, nf.metric, nf.key)
        delta[k][0] += nf.n
        delta[k][1] += nf.total
    changed = {k: v for k, v in delta.items() if v[0] or abs(v[1]) > 1e-9}
    if old or new:
        _apply(patient.practice_id, changed)
    if old:
        OutcomeFact.objects.filter(patient=patient).delete()
    OutcomeFact.objects.bulk_create(
        OutcomeFact(
            patient=patient,
            practice_id=patient.practice_id,
            clinic_id=f.clinic_id,
            physician_id=f.physician_id,
            indication=f.indication,
            month=f.month,
            metric=f.metric,
            key=f.key,
            n=f.n,
            total=f.total,
        )
        for f in new
    )
    PatientOutcome.objects.update_or_create(
        patient=patient, defaults={**outcome, "refreshed_at": timezone.now()}
    )


def _apply(practice_id: int, delta: dict[Key, list[float]]) -> None:
    """Add the differences to the buckets: new buckets are created (a concurrent creator loses
    the race to the unique key and adds instead), existing ones are incremented in place."""
    for (clinic, phys, ind, month, metric, key), (n, total) in sorted(delta.items()):
        where = {
            "practice_id": practice_id,
            "clinic_id": clinic,
            "physician_id": phys,
            "indication": ind,
            "month": month,
            "metric": metric,
            "key": key,
        }
        if not OutcomeBucket.objects.filter(**where).update(n=F("n") + n, total=F("total") + total):
            OutcomeBucket.objects.bulk_create(
                [OutcomeBucket(**where, n=0, total=0)], ignore_conflicts=True
            )
            OutcomeBucket.objects.filter(**where).update(n=F("n") + n, total=F("total") + total)


def run_marked(limit: int = 200) -> int:
    """The ``outcomes.refresh`` job: refresh up to ``limit`` marked patients, then patients whose
    figures change today without a write (``recheck_on``)."""
    today = timezone.localdate()
    due = list(
        PatientOutcome.objects.filter(recheck_on__lte=today)
        .order_by("recheck_on")
        .values_list("patient_id", flat=True)[:limit]
    )
    if due:
        refresh_patients(due, today)
    marks = list(
        RefreshMark.objects.order_by("marked_at")[:limit].values_list("patient_id", "marked_at")
    )
    if marks:
        refresh_patients([pid for pid, _ in marks], today)
    for pid, at in marks:
        RefreshMark.objects.filter(patient_id=pid, marked_at=at).delete()
    return len(marks) + len(due)


def backfill(
    patient_ids: Sequence[int],
    today: date | None = None,
    progress: Any = None,
    batch: int = 500,
    buckets: bool = True,
) -> int:
    """Rebuild the rollup of these patients from raw rows: their facts and outcome rows are
    replaced in batches (bulk inserts), then every bucket is recomputed from the facts in one
    grouped INSERT ... SELECT. Marks of the patients are cleared. Returns the patients done."""
    today = today or timezone.localdate()
    done = 0
    for start in range(0, len(patient_ids), batch):
        chunk = list(patient_ids[start : start + batch])
        outcomes: list[PatientOutcome] = []
        facts: list[OutcomeFact] = []
        now = timezone.now()
        for patient in Patient.objects.filter(pk__in=chunk).order_by("pk"):
            outcome, new = compute(patient, today)
            outcomes.append(PatientOutcome(patient=patient, refreshed_at=now, **outcome))
            facts.extend(
                OutcomeFact(
                    patient_id=patient.pk,
                    practice_id=patient.practice_id,
                    clinic_id=f.clinic_id,
                    physician_id=f.physician_id,
                    indication=f.indication,
                    month=f.month,
                    metric=f.metric,
                    key=f.key,
                    n=f.n,
                    total=f.total,
                )
                for f in new
            )
        with transaction.atomic():
            OutcomeFact.objects.filter(patient_id__in=chunk).delete()
            PatientOutcome.objects.filter(patient_id__in=chunk).delete()
            OutcomeFact.objects.bulk_create(facts, batch_size=2000)
            PatientOutcome.objects.bulk_create(outcomes, batch_size=2000)
            RefreshMark.objects.filter(patient_id__in=chunk).delete()
        done += len(chunk)
        if progress is not None:
            progress(done, len(patient_ids))
    if buckets:
        rebuild_buckets()
    return done


def rebuild_buckets() -> None:
    """Every bucket recomputed from the facts (one statement; the buckets equal the facts' sums)."""
    from django.db import connection

    q = connection.ops.quote_name
    dims = ", ".join(
        q(c)
        for c in (
            "practice_id",
            "clinic_id",
            "physician_id",
            "indication",
            "month",
            "metric",
            "key",
        )
    )
    bucket, fact = q(OutcomeBucket._meta.db_table), q(OutcomeFact._meta.db_table)
    with transaction.atomic():
        OutcomeBucket.objects.all().delete()
        with connection.cursor() as cur:
            # Only quoted model table and column names are interpolated.
            sql = f"INSERT INTO {bucket} ({dims}, n, total) SELECT {dims}, SUM(n), SUM(total) FROM {fact} GROUP BY {dims}"  # noqa: S608, E501
            cur.execute(sql)
