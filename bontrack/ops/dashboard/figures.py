"""The dashboard's figures, read from the rollup (``bontrack.outcomes``): a fixed number of
queries whatever the period or the size of the practice (stages: one grouped query over
``PatientOutcome``; every other figure: one grouped query over ``OutcomeBucket``)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from bontrack.accounts.models import Scope
from bontrack.ops.dashboard.refresh import REDUCTION_BINS, RHYTHM_GRACE_DAYS
from bontrack.outcomes.models import OutcomeBucket, OutcomeFact, PatientOutcome, Stage
from bontrack.patients.choices import Indication
from bontrack.treatments.choices import AdverseEffectKind

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
INSTRUMENTS = {"midas": "MIDAS", "hit6": "HIT-6"}


def indication_label(code: str) -> str:
    try:
        return str(Indication(code).label)
    except ValueError:
        return code.replace("_", " ").capitalize() if code else "Not recorded"


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: the period in whole months and optional clinic, physician and
    indication (all from the URL)."""

    start: date  # first day of the first month
    end: date  # first day of the last month
    clinic_id: int | None = None
    physician_id: int | None = None
    indication: str = ""

    def query(self, **extra: str) -> dict[str, str]:
        q = {"from": self.start.strftime("%Y-%m"), "to": self.end.strftime("%Y-%m")}
        if self.clinic_id:
            q["clinic"] = str(self.clinic_id)
        if self.physician_id:
            q["physician"] = str(self.physician_id)
        if self.indication:
            q["indication"] = self.indication
        q.update({k: v for k, v in extra.items() if v is not None})
        return q


def parse_month(raw: str) -> date | None:
    m = _MONTH.match(raw or "")
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (1900 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months, this one included."""
    end = today.replace(day=1)
    start = date(end.year, 1, 1) if end.month == 12 else date(end.year - 1, end.month + 1, 1)
    return start, end


def _dims(qs: QuerySet[Any], scope: Scope, f: Filters, clinic_field: str = "clinic_id") -> Any:
    qs = qs.filter(practice_id=scope.practice_id)
    if not scope.all_clinics:
        qs = qs.filter(**{f"{clinic_field}__in": scope.clinic_ids})
    if f.clinic_id:
        qs = qs.filter(**{clinic_field: f.clinic_id})
    if f.physician_id:
        qs = qs.filter(physician_id=f.physician_id)
    if f.indication:
        qs = qs.filter(indication=f.indication)
    return qs


@dataclass
class Figure:
    """One figure: its table (what the chart draws, what the CSV holds) and, per row, the
    click-through that lists the patients behind it."""

    slug: str
    title: str
    description: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[dict[str, str] | None] = field(default_factory=list)
    headline: str = ""
    chart: dict[str, Any] = field(default_factory=dict)  # kind and fields for charts.py


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _fmt_pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:g}%"


def compute(scope: Scope, f: Filters, today: date) -> list[Figure]:
    stage_rows = list(
        _dims(PatientOutcome.objects.all(), scope, f)
        .values("stage")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_by__lt=today)))
        .order_by()
    )
    buckets = list(
        _dims(OutcomeBucket.objects.all(), scope, f)
        .filter(month__gte=f.start, month__lte=f.end)
        .values("metric", "key", "indication")
        .annotate(n=Sum("n"), total=Sum("total"))
        .order_by()
    )
    by: dict[str, dict[tuple[str, str], tuple[int, float]]] = defaultdict(dict)
    for b in buckets:
        by[b["metric"]][(b["key"], b["indication"])] = (int(b["n"] or 0), float(b["total"] or 0))

    def n_of(metric: str, key: str | None = None, indication: str | None = None) -> int:
        return sum(
            n
            for (k, ind), (n, _) in by[metric].items()
            if (key is None or k == key) and (indication is None or ind == indication)
        )

    figures: list[Figure] = []

    # 1. patients by stage (today)
    stages = {r["stage"]: r for r in stage_rows}
    fig = Figure(
        "stages",
        "Patients by stage",
        "Where each patient of the program stands today (the period does not apply).",
        ("Stage", "Patients"),
        chart={"kind": "bar", "x": "Stage", "y": "Patients"},
    )
    for stage in Stage:
        fig.rows.append((str(stage.label), stages.get(stage.value, {}).get("n", 0)))
        fig.links.append({"metric": "stage", "key": stage.value})
    fig.headline = f"{sum(r[1] for r in fig.rows)} patients"
    figures.append(fig)

    # 2. responder rate after two cycles
    yes, no = n_of("responder", "yes"), n_of("responder", "no")
    rate = _pct(yes, yes + no)
    fig = Figure(
        "responders",
        "Responders after two cycles",
        "Patients assessed after their second cycle in the period, under the practice's "
        "response rules (AHS, NICE or EHF).",
        ("Result", "Patients", "Share (%)"),
        chart={"kind": "bar", "x": "Result", "y": "Patients"},
        headline=f"{_fmt_pct(rate)} responders of {yes + no} assessed",
    )
    for label, key, n in (("Responder", "yes", yes), ("Non-responder", "no", no)):
        fig.rows.append((label, n, _pct(n, yes + no)))
        fig.links.append({"metric": "responder", "key": key})
    figures.append(fig)

    # 3. headache-day reduction distribution
    fig = Figure(
        "reduction",
        "Headache-day reduction after two cycles",
        "How much monthly headache days fell from baseline to the second cycle, per patient.",
        ("Reduction", "Patients"),
        chart={"kind": "bar", "x": "Reduction", "y": "Patients", "sort": list(REDUCTION_BINS)},
    )
    for b in REDUCTION_BINS:
        fig.rows.append(("Worse than baseline" if b == "worse" else b, n_of("reduction", b)))
        fig.links.append({"metric": "reduction", "key": b})
    total_n = n_of("reduction")
    total_red = sum(t for (_, _), (_, t) in by["reduction"].items())
    fig.headline = (
        f"mean reduction {total_red / total_n:.1f}% over {total_n} patients"
        if total_n
        else "no patient assessed in the period"
    )
    figures.append(fig)

    # 4. scale change per indication
    fig = Figure(
        "scales",
        "Scale change per indication",
        "Mean change of each questionnaire score from baseline to the second cycle "
        "(a fall is an improvement).",
        ("Indication", "Scale", "Patients", "Mean change (points)"),
        chart={"kind": "scale"},
    )
    for (key, ind), (n, total) in sorted(by["scale"].items()):
        fig.rows.append(
            (
                indication_label(ind),
                INSTRUMENTS.get(key, key),
                n,
                round(total / n, 1) if n else None,
            )
        )
        fig.links.append({"metric": "scale", "key": key, "indication": ind})
    figures.append(fig)

    # 5. adherence to the 12-week rhythm
    early, on_time, late = (n_of("interval", k) for k in ("early", "on_time", "late"))
    overdue = sum(r["overdue"] for r in stage_rows)
    share = _pct(on_time, early + on_time + late)
    fig = Figure(
        "rhythm",
        "Adherence to the 12-week rhythm",
        f"Re-treatments in the period by the time since the previous session: on time is from "
        f"the re-treatment interval (12 weeks) to {RHYTHM_GRACE_DAYS} days later; overdue "
        "counts patients in treatment whose next session is late today.",
        ("Re-treatment", "Patients or sessions", "Share (%)"),
        chart={"kind": "bar", "x": "Re-treatment", "y": "Patients or sessions"},
        headline=f"{_fmt_pct(share)} treated within 12-14 weeks; {overdue} overdue now",
    )
    for label, key, n in (
        ("Within 12-14 weeks", "on_time", on_time),
        ("Earlier than 12 weeks", "early", early),
        ("Later than 14 weeks", "late", late),
    ):
        fig.rows.append((label, n, _pct(n, early + on_time + late)))
        fig.links.append({"metric": "interval", "key": key})
    fig.rows.append(("Overdue now (patients)", overdue, None))
    fig.links.append({"metric": "stage", "key": "overdue"})
    figures.append(fig)

    # 6. no-shows
    missed, attended = n_of("visits", "no_show"), n_of("visits", "attended")
    fig = Figure(
        "noshows",
        "No-shows",
        "Appointments in the period that the patient attended or missed.",
        ("Appointments", "Count", "Share (%)"),
        chart={"kind": "bar", "x": "Appointments", "y": "Count"},
        headline=f"{_fmt_pct(_pct(missed, missed + attended))} of {missed + attended} "
        "appointments missed",
    )
    for label, key, n in (("Missed", "no_show", missed), ("Attended", "attended", attended)):
        fig.rows.append((label, n, _pct(n, missed + attended)))
        fig.links.append({"metric": "visits", "key": key})
    figures.append(fig)

    # 7. adverse effects per 100 sessions
    sessions = n_of("sessions")
    fig = Figure(
        "effects",
        "Adverse effects per 100 sessions",
        "Adverse effects reported after the sessions of the period, per 100 signed sessions.",
        ("Effect", "Reports", "Per 100 sessions"),
        chart={"kind": "bar", "x": "Effect", "y": "Per 100 sessions"},
        headline=f"{sessions} sessions",
    )
    for kind in AdverseEffectKind:
        n = n_of("ae", kind.value)
        fig.rows.append((str(kind.label), n, _pct(n, sessions)))
        fig.links.append({"metric": "ae", "key": kind.value})
    figures.append(fig)

    # 8. units per indication
    fig = Figure(
        "units",
        "Units per indication",
        "Units injected in the sessions of the period, per indication.",
        ("Indication", "Sessions", "Units", "Mean units per session"),
        chart={"kind": "bar", "x": "Indication", "y": "Units"},
    )
    for (_, ind), (n, total) in sorted(by["units"].items()):
        fig.rows.append(
            (indication_label(ind), n, round(total, 1), round(total / n, 1) if n else None)
        )
        fig.links.append({"metric": "units", "key": "", "indication": ind})
    figures.append(fig)
    return figures


def patients_behind(
    scope: Scope, f: Filters, metric: str, key: str, indication: str | None, today: date
) -> QuerySet[Any]:
    """Ids of the patients behind one number (a subquery for the patient list)."""
    if metric == "stage":
        qs = _dims(PatientOutcome.objects.all(), scope, f)
        qs = qs.filter(due_by__lt=today) if key == "overdue" else qs.filter(stage=key)
        return qs.values("patient_id")
    qs = _dims(OutcomeFact.objects.all(), scope, f).filter(
        month__gte=f.start, month__lte=f.end, metric=metric, key=key
    )
    if indication is not None:
        qs = qs.filter(indication=indication)
    return qs.values("patient_id")


METRICS = {"stage", "responder", "reduction", "scale", "interval", "visits", "ae", "units"}
