"""The patient's outcome charts (core chart component; no clinical logic here).

Every figure comes from clinic_rules through ``diaries.facts``: day classes and period counts
from ``diary-summary`` (headache, migraine and acute-medication days per program period), the
baseline from ``diary-summary`` over the period before the first treatment session, and the
scales' ranges and bands from the ``SCORE-*`` rules. This module only lays them out as charts:

- :func:`period_chart`: headache, migraine and acute-medication days per diary period, treatment
  sessions as vertical lines, the baseline as dashed reference lines;
- :func:`cycle_chart`: weeks 0 to 12 after each session, cycles overlaid (when the effect wears off);
- :func:`score_chart`: MIDAS and HIT-6 on their own scales, with their bands;
- :func:`heat_map_chart`: the diary calendar, a square per day coloured by its class.

Dates go into the specifications as ISO strings on UTC scales (a date-only ISO string is UTC in
the browser: a local scale would show the day before in American time zones).
"""

from __future__ import annotations

import calendar
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import altair as alt

from bontrack.core.charts import Chart, Table, theme_config

CLASS_LABELS = {
    "migraine": "Migraine",
    "probable_migraine": "Probable migraine",
    "headache": "Headache",
    "headache_free": "Headache-free",
    "missing": "Missing",
}
CLASS_COLOURS = {
    "migraine": "#7a1f2b",
    "probable_migraine": "#d0604a",
    "headache": "#f2b04b",
    "headache_free": "#74b27c",
    "missing": "#ffffff",
}
HEADACHE_CLASSES = frozenset({"migraine", "probable_migraine", "headache"})
MEASURES = (
    ("headache_days", "Headache days", "#c27c0e"),
    ("migraine_days", "Migraine days", "#7a1f2b"),
    ("any_acute_medication_days", "Acute-medication days", "#1f5f8b"),
)
CYCLE_WEEKS = 12  # the overlay shows weeks 0 to 12 after each injection (a 12-week rhythm)
CYCLES_SHOWN = 6  # the last six cycles (a year and a half): more lines are not readable
HEAT_MAP_MONTHS = 24  # the calendar shows the last two years (the period chart shows all)
HEIGHT = 260
# The whole chart (axes and legend included) fits the width of its container: a tablet, a phone.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
BAND_COLOURS = ("#f4f7f5", "#fbf3dc", "#f8e0c8", "#f3cccc", "#e9b8c0")  # light, by severity


def _utc_x(field: str, title: str) -> alt.X:
    return alt.X(
        f"{field}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %Y", labelAngle=0, labelOverlap=True, tickCount=6),
    )


# ---- days per period ------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _period_spec(period_days: int, with_baseline: bool, with_sessions: bool) -> str:
    """The period chart's Vega-Lite specification as JSON (data by name; built once per shape)."""
    colour = alt.Color(
        "measure:N",
        title=None,
        scale=alt.Scale(domain=[m[1] for m in MEASURES], range=[m[2] for m in MEASURES]),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=200),
    )
    y = alt.Y(
        "days:Q",
        title=f"Days per {period_days}-day period",
        scale=alt.Scale(domain=[0, period_days]),
    )
    lines = (
        alt.Chart(alt.NamedData("periods"))
        .mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=2)
        .encode(
            x=_utc_x("mid", f"Diary periods of {period_days} days (at their middle)"),
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("days:Q", title="Days"),
                alt.Tooltip("recorded:N", title="Days recorded"),
            ],
        )
    )
    base = (
        alt.Chart(alt.NamedData("baseline"))
        .mark_rule(strokeDash=[6, 4], strokeWidth=1.5)
        .encode(
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("period:N", title="Baseline"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("days:Q", title="Days"),
            ],
        )
    )
    marks = (
        alt.Chart(alt.NamedData("sessions"))
        .mark_rule(color="#1b1f24", strokeWidth=1.5)
        .encode(x=alt.X("date:T", scale=alt.Scale(type="utc")), tooltip=["label:N"])
    )
    layers = [
        *([base] if with_baseline else []),
        *([marks] if with_sessions else []),
        lines,
    ]
    spec = (
        alt.layer(*layers)
        .properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)
        .configure(**theme_config())
    )
    return json.dumps(spec.to_dict(validate=False))


def period_chart(
    periods: Sequence[Mapping[str, Any]],
    sessions: Sequence[date],
    baseline: Mapping[str, Any] | None,
    period_days: int,
) -> Chart:
    """``periods`` and ``baseline`` are clinic_rules ``diary-summary`` periods (oldest first)."""
    rows: list[dict[str, Any]] = []
    for p in periods:
        if not p["recorded_days"]:
            continue  # nothing recorded: no point (a missing day is never a headache-free day)
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        mid = start + (end - start) / 2
        for key, label, _ in MEASURES:
            rows.append(
                {
                    "mid": mid.isoformat(),
                    "period": f"{p['start']} to {p['end']}",
                    "measure": label,
                    "days": int(p[key]),
                    "recorded": f"{p['recorded_days']} of {p['days']}",
                }
            )
    base_rows = (
        [
            {
                "measure": label,
                "days": int(baseline[key]),
                "period": f"baseline {baseline['start']} to {baseline['end']}",
            }
            for key, label, _ in MEASURES
        ]
        if baseline
        else []
    )
    first, last = (
        (date.fromisoformat(periods[0]["start"]), date.fromisoformat(periods[-1]["end"]))
        if periods
        else (None, None)
    )
    session_rows = [
        {"date": s.isoformat(), "label": f"Treatment session {s.isoformat()}"}
        for s in sessions
        if first is not None and last is not None and first <= s <= last
    ]
    spec = json.loads(_period_spec(period_days, bool(base_rows), bool(session_rows)))
    table_rows: list[tuple[Any, ...]] = []
    if baseline:
        table_rows.append(
            (
                f"Baseline {baseline['start']} to {baseline['end']}",
                f"{baseline['recorded_days']} of {baseline['days']}",
                *(int(baseline[k]) for k, _, _ in MEASURES),
                "",
            )
        )
    for p in periods:
        if not p["recorded_days"]:
            continue
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        table_rows.append(
            (
                f"{p['start']} to {p['end']}",
                f"{p['recorded_days']} of {p['days']}",
                *(int(p[k]) for k, _, _ in MEASURES),
                " ".join(s.isoformat() for s in sessions if start <= s <= end),
            )
        )
    baseline_text = (
        f" Dashed lines: the baseline, the {period_days} days before the first treatment session"
        f" ({baseline['start']} to {baseline['end']})."
        if baseline
        else " No baseline: no diary days in the period before the first treatment session."
        if sessions
        else ""
    )
    return Chart(
        name="diary-periods",
        title=f"Days per {period_days}-day period",
        description=(
            "Headache, migraine and acute-medication days in each diary period; vertical lines "
            f"are treatment sessions.{baseline_text}"
        ),
        spec=spec,
        datasets={"periods": rows, "baseline": base_rows, "sessions": session_rows},
        table=Table(
            columns=(
                "Period",
                "Days recorded",
                "Headache days",
                "Migraine days",
                "Acute-medication days",
                "Sessions",
            ),
            rows=tuple(table_rows),
        ),
    )


# ---- cycles overlaid --------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleWeek:
    cycle: int
    session: date
    week: int
    recorded: int
    headache: int

    @property
    def per_week(self) -> float:
        """Headache days per 7 recorded days (missing days are never counted headache-free)."""
        return round(self.headache * 7 / self.recorded, 1)


def cycle_weeks(
    classes: Mapping[date, str], sessions: Sequence[date], today: date
) -> list[CycleWeek]:
    """Weeks 0..12 after each session (week 0 = the injection day and the 6 days after), each cut
    at the next session and at today; weeks without a recorded day are left out."""
    out: list[CycleWeek] = []
    ordered = sorted(set(sessions))
    for n, session in enumerate(ordered, start=1):
        if n <= len(ordered) - CYCLES_SHOWN:
            continue
        stop = min(ordered[n] - timedelta(days=1) if n < len(ordered) else today, today)
        for week in range(CYCLE_WEEKS + 1):
            start = session + timedelta(days=7 * week)
            if start > stop:
                break
            recorded = headache = 0
            for k in range(7):
                day = start + timedelta(days=k)
                if day > stop:
                    break
                cls = classes.get(day, "missing")
                if cls != "missing":
                    recorded += 1
                    headache += cls in HEADACHE_CLASSES
            if recorded:
                out.append(CycleWeek(n, session, week, recorded, headache))
    return out


@functools.lru_cache(maxsize=256)
def _cycle_spec(cycles: tuple[str, ...]) -> str:
    """The cycle overlay's specification as JSON (``cycles``: the legend's order)."""
    spec = (
        alt.Chart(alt.NamedData("weeks"))
        .mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=2)
        .encode(
            x=alt.X(
                "week:Q",
                title="Weeks since the injection",
                scale=alt.Scale(domain=[0, CYCLE_WEEKS]),
                axis=alt.Axis(values=list(range(CYCLE_WEEKS + 1)), format="d"),
            ),
            y=alt.Y(
                "per_week:Q",
                title="Headache days per week",
                scale=alt.Scale(domain=[0, 7]),
                axis=alt.Axis(values=list(range(8)), format="d"),
            ),
            color=alt.Color(
                "cycle:N",
                title="Cycle (session date)",
                sort=list(cycles),
                legend=alt.Legend(orient="bottom", columns=3),
            ),
            tooltip=[
                alt.Tooltip("cycle:N", title="Cycle"),
                alt.Tooltip("week:Q", title="Week"),
                alt.Tooltip("headache:Q", title="Headache days"),
                alt.Tooltip("recorded:Q", title="Days recorded"),
                alt.Tooltip("per_week:Q", title="Per 7 recorded days"),
            ],
        )
        .properties(width="container", height=HEIGHT, autosize=FIT_WIDTH)
        .configure(**theme_config())
    )
    return json.dumps(spec.to_dict(validate=False))


def cycle_chart(classes: Mapping[date, str], sessions: Sequence[date], today: date) -> Chart:
    """``classes``: clinic_rules day classes (``diary-summary`` ``days``)."""
    weeks = cycle_weeks(classes, sessions, today)
    rows = [
        {
            "cycle": f"{w.cycle} ({w.session.isoformat()})",
            "week": w.week,
            "per_week": w.per_week,
            "headache": w.headache,
            "recorded": w.recorded,
        }
        for w in weeks
    ]
    spec = json.loads(_cycle_spec(tuple(dict.fromkeys(str(r["cycle"]) for r in rows))))
    return Chart(
        name="diary-cycles",
        title="Headache days by week after each injection, cycles overlaid",
        description=(
            f"Weeks 0 to {CYCLE_WEEKS} after each of the last {CYCLES_SHOWN} treatment sessions, "
            "one line per cycle, each "
            "cut at the next session; headache days per 7 recorded days (missing days are not "
            "counted as headache-free). A line that rises before the next session shows the "
            "effect wearing off."
        ),
        spec=spec,
        datasets={"weeks": rows},
        table=Table(
            columns=(
                "Cycle",
                "Session",
                "Week",
                "Days recorded",
                "Headache days",
                "Headache days per 7 recorded days",
            ),
            rows=tuple(
                (w.cycle, w.session.isoformat(), w.week, w.recorded, w.headache, w.per_week)
                for w in weeks
            ),
        ),
    )


# ---- questionnaire scales ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """A questionnaire's scale as the chart draws it (from its clinic_rules ``SCORE-*`` rule)."""

    instrument: str
    label: str
    unit: str
    low: float
    high: float | None  # None: open-ended (the axis reaches the highest score and the top band)
    bands: tuple[tuple[float, str], ...]  # (lower bound, label), ascending
    note: str = ""


@functools.lru_cache(maxsize=256)
def _score_spec(
    panels: tuple[tuple[Scale, float], ...],
    x_domain: tuple[str, str] | None,
    with_sessions: bool,
) -> str:
    """The questionnaire chart's specification as JSON: one panel per (scale, top of its axis)."""
    charts: list[Any] = []
    for scale, high in panels:
        key = scale.instrument
        y_title = (
            f"{scale.label} ({scale.unit}, {scale.low:g}–{scale.high:g})"
            if scale.high is not None
            else f"{scale.label} ({scale.unit})"
        )
        y = alt.Y(
            "score:Q",
            title=y_title,
            scale=alt.Scale(domain=[scale.low, high], nice=False, zero=False),
        )
        x = alt.X(
            "date:T",
            title="Date answered",
            scale=alt.Scale(type="utc", domain=x_domain or alt.Undefined),
            axis=alt.Axis(format="%b %Y", labelAngle=0, labelOverlap=True, tickCount=5),
        )
        band_layer = (
            alt.Chart(alt.NamedData(f"{key}-bands"))
            .mark_rect()
            .encode(
                y=alt.Y("lo:Q", scale=alt.Scale(domain=[scale.low, high], nice=False, zero=False)),
                y2="hi:Q",
                color=alt.Color(
                    "band:N",
                    title=None,
                    scale=alt.Scale(
                        domain=[b[1] for b in scale.bands],
                        range=list(BAND_COLOURS[: len(scale.bands)]),
                    ),
                    legend=alt.Legend(orient="bottom", columns=2, labelLimit=360),
                ),
                tooltip=[alt.Tooltip("band:N", title=f"{scale.label} band")],
            )
        )
        line = (
            alt.Chart(alt.NamedData(key))
            .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), color="#1f5f8b")
            .encode(x=x, y=y, tooltip=[alt.Tooltip("label:N", title="Score")])
        )
        layers = [band_layer, line]
        if with_sessions:
            layers.insert(
                1,
                alt.Chart(alt.NamedData("score-sessions"))
                .mark_rule(color="#1b1f24", strokeWidth=1, strokeDash=[2, 2])
                .encode(x=x, tooltip=["label:N"]),
            )
        charts.append(
            alt.layer(*layers)
            .resolve_scale(color="independent")
            .properties(width="container", height=200, title=f"{scale.label}{scale.note}")
        )
    spec = (
        alt.vconcat(*charts).resolve_scale(color="independent")
        if charts
        else alt.Chart(alt.NamedData("none")).mark_point()
    ).configure(**theme_config())
    return json.dumps(spec.to_dict(validate=False))


def score_chart(
    scores: Sequence[Mapping[str, Any]], scales: Sequence[Scale], sessions: Sequence[date] = ()
) -> Chart:
    """``scores``: ``[{date, instrument, score, valid}]``; each instrument its own panel and axis,
    treatment sessions as vertical lines."""
    panels: list[tuple[Scale, float]] = []
    datasets: dict[str, list[dict[str, Any]]] = {}
    valid = [s for s in scores if s["valid"] and s["score"] is not None]
    dates = [s["date"] for s in valid]
    x_domain = (
        [min(dates).isoformat(), max(max(dates), min(dates) + timedelta(days=1)).isoformat()]
        if dates
        else None
    )
    for scale in scales:
        points = [s for s in valid if s["instrument"] == scale.instrument]
        if not points:
            continue
        top_band = scale.bands[-1][0] if scale.bands else scale.low
        # An open-ended scale (MIDAS) reaches past its highest score and twice its top band's
        # lower bound, rounded up to ten: the top of the axis is never the data's maximum.
        high = (
            scale.high
            if scale.high is not None
            else float(
                math.ceil(max([*(p["score"] for p in points), top_band * 2]) * 1.1 / 10) * 10
            )
        )
        bands = []
        for i, (lo, label) in enumerate(scale.bands):
            hi = scale.bands[i + 1][0] if i + 1 < len(scale.bands) else high
            bands.append({"lo": lo, "hi": min(hi, high), "band": label})
        key = scale.instrument
        datasets[key] = [
            {
                "date": p["date"].isoformat(),
                "score": p["score"],
                "label": f"{scale.label} {p['score']:g} {scale.unit} on {p['date'].isoformat()}",
            }
            for p in points
        ]
        datasets[f"{key}-bands"] = bands
        panels.append((scale, high))
    in_range = [
        {"date": d.isoformat(), "label": f"Treatment session {d.isoformat()}"}
        for d in sessions
        if x_domain and x_domain[0] <= d.isoformat() <= x_domain[1]
    ]
    datasets["score-sessions"] = in_range
    spec = json.loads(
        _score_spec(tuple(panels), tuple(x_domain) if x_domain else None, bool(in_range))
    )
    labels = {s.instrument: s for s in scales}
    rows = tuple(
        (
            s["date"].isoformat(),
            labels[s["instrument"]].label if s["instrument"] in labels else s["instrument"],
            f"{s['score']:g} {labels[s['instrument']].unit}"
            if s["valid"] and s["score"] is not None and s["instrument"] in labels
            else "not valid",
        )
        for s in scores
    )
    return Chart(
        name="diary-scores",
        title=" and ".join(s.label for s in scales) + " over time",
        description=(
            "Each questionnaire on its own scale and axis, its bands shaded, treatment sessions "
            "as dotted lines; "
            + "; ".join(
                f"{s.label} {s.low:g}–{s.high:g} {s.unit}"
                if s.high is not None
                else f"{s.label} from {s.low:g} {s.unit}"
                for s in scales
            )
            + "."
        ),
        spec=spec,
        datasets=datasets,
        table=Table(columns=("Date", "Questionnaire", "Score"), rows=rows),
    )


# ---- calendar heat map ------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _heat_map_spec() -> str:
    """The calendar's specification as JSON (the same for every patient)."""
    spec = (
        alt.Chart(alt.NamedData("days"))
        .mark_rect(stroke="#9aa3ad", strokeWidth=0.5, cornerRadius=2)
        .encode(
            x=alt.X(
                "day:O",
                title="Day of the month",
                axis=alt.Axis(labelAngle=0, values=[1, 5, 10, 15, 20, 25, 31]),
                scale=alt.Scale(domain=list(range(1, 32))),
            ),
            y=alt.Y("month:O", title=None, sort=alt.EncodingSortField("key", order="descending")),
            color=alt.Color(
                "class:N",
                title=None,
                scale=alt.Scale(
                    domain=list(CLASS_LABELS.values()), range=list(CLASS_COLOURS.values())
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[alt.Tooltip("date:N", title="Date"), alt.Tooltip("class:N", title="Day")],
        )
        .properties(width=alt.Step(20), height=alt.Step(18))
        .configure(**theme_config())
    )
    return json.dumps(spec.to_dict(validate=False))


def heat_map_chart(classes: Mapping[date, str], start: date, end: date) -> Chart:
    """One square per day from ``start`` to ``end`` (clinic_rules day classes; missing days white)."""
    first = max(start, _months_back(end, HEAT_MAP_MONTHS))
    rows = []
    months: dict[str, dict[str, int]] = {}
    day = first
    while day <= end:
        cls = classes.get(day, "missing")
        month = f"{calendar.month_abbr[day.month]} {day.year}"
        rows.append(
            {
                "day": day.day,
                "month": month,
                "key": f"{day.year}-{day.month:02d}",
                "class": CLASS_LABELS[cls],
                "date": day.isoformat(),
            }
        )
        months.setdefault(f"{day.year}-{day.month:02d}", dict.fromkeys(CLASS_LABELS, 0))[cls] += 1
        day += timedelta(days=1)
    spec = json.loads(_heat_map_spec())
    return Chart(
        name="diary-calendar",
        title="Diary calendar",
        description=(
            f"One square per day of the last {HEAT_MAP_MONTHS} months, newest month on top, "
            "coloured by the day's class; white squares are days not recorded."
        ),
        spec=spec,
        datasets={"days": rows},
        table=Table(
            columns=("Month", *CLASS_LABELS.values()),
            rows=tuple((m, *counts.values()) for m, counts in sorted(months.items())),
            caption="Days per class and month",
        ),
    )


def _months_back(end: date, months: int) -> date:
    y, m = end.year, end.month - (months - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


# ---- the portal's week strip (not a chart: a calendar of links) -------------------------------


def week_strip(recorded: dict[date, str], today: date, days: int) -> list[dict[str, Any]]:
    """The last ``days`` days for the portal calendar, newest last."""
    out = []
    for k in range(days - 1, -1, -1):
        d = today - timedelta(days=k)
        out.append({"date": d, "state": recorded.get(d, "missing")})
    return out
