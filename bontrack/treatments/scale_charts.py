"""Trend charts of the outcome scales per cycle, sessions marked (core/charts, no clinical logic).

Values are the measures ``clinic_rules`` computes (``treatments.facts.scales.measures``); each
axis spans the scale's true range from the score rules. Modified Ashworth is drawn on its 0-5
numeric mapping with the grades (1+ its own) as axis labels.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import altair as alt
from django.utils import timezone

from bontrack.core.charts import Chart, Table, theme_config
from bontrack.treatments.facts import scales as facts

PANEL_HEIGHT = 160


@functools.lru_cache(maxsize=64)
def _spec(
    panels: tuple[tuple[str, str, float, float], ...],
    grades: tuple[str, ...],
    x_domain: tuple[str, str],
    with_sessions: bool,
) -> str:
    """One panel per (dataset key, title, low, high); MAS panels colour one line per muscle."""
    charts: list[Any] = []
    x = alt.X(
        "date:T",
        title="Date rated",
        scale=alt.Scale(type="utc", domain=list(x_domain)),
        axis=alt.Axis(format="%b %Y", labelAngle=0, labelOverlap=True, tickCount=5),
    )
    for key, title, low, high in panels:
        is_mas = key.startswith("mas")
        axis = (
            alt.Axis(
                values=list(range(len(grades))),
                labelExpr="[" + ",".join(json.dumps(g) for g in grades) + "][datum.value]",
            )
            if is_mas
            else alt.Axis(tickMinStep=1)
        )
        y = alt.Y(
            "value:Q",
            title=title,
            scale=alt.Scale(domain=[low, high], nice=False, zero=False),
            axis=axis,
        )
        encode: dict[str, Any] = {
            "x": x,
            "y": y,
            "tooltip": [alt.Tooltip("label:N", title="Rating")],
        }
        if is_mas:
            encode["color"] = alt.Color(
                "series:N", title="Muscle or joint", legend=alt.Legend(orient="bottom", columns=2)
            )
        line = (
            alt.Chart(alt.NamedData(key))
            .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), color="#1f5f8b")
            .encode(**encode)
        )
        layers: list[Any] = [line]
        if with_sessions:
            layers.insert(
                0,
                alt.Chart(alt.NamedData("scale-sessions"))
                .mark_rule(color="#1b1f24", strokeWidth=1, strokeDash=[2, 2])
                .encode(x=x, tooltip=["label:N"]),
            )
        charts.append(
            alt.layer(*layers).properties(width="container", height=PANEL_HEIGHT, title=title)
        )
    spec = alt.vconcat(*charts).configure(**theme_config())
    return json.dumps(spec.to_dict(validate=False))


def _fmt(v: float) -> str:
    return f"{v:g}"


def scale_chart(
    instrument: str,
    entries: Sequence[tuple[date, dict[str, float]]],
    sessions: Sequence[date],
    muscle_labels: dict[str, str],
) -> Chart:
    """``entries``: ``[(date, measures)]`` of one instrument; sessions as dotted vertical lines."""
    label = facts.LABELS[instrument]
    dates = [d for d, _ in entries] + list(sessions)
    start = min(dates) if dates else timezone.localdate()
    end = max(max(dates) if dates else start, start + timedelta(days=1))
    x_domain = (start.isoformat(), end.isoformat())
    datasets: dict[str, list[dict[str, Any]]] = {}
    panels: list[tuple[str, str, float, float]] = []
    rows: list[tuple[str, str, str]] = []
    grades = facts.mas_order()
    if instrument == "mas":
        low, high = facts.measure_range("mas", "")
        points = []
        for d, values in entries:
            for key, v in values.items():
                muscle, side = key.split(":", 1)
                series = f"{muscle_labels.get(muscle, muscle)}, {side}"
                grade = grades[int(v)]
                points.append(
                    {
                        "date": d.isoformat(),
                        "value": v,
                        "series": series,
                        "label": f"{series}: grade {grade} on {d.isoformat()}",
                    }
                )
                rows.append((d.isoformat(), series, f"grade {grade}"))
        datasets["mas"] = points
        panels.append(("mas", "Modified Ashworth grade", low, high))
    else:
        names = ["severity", "disability", "pain"] if instrument == "twstrs" else ["score"]
        for name in names:
            low, high = facts.measure_range(instrument, name)
            key = f"{instrument}-{name}"
            title = (
                f"{label} {facts.MEASURE_LABELS[name]} ({_fmt(low)}–{_fmt(high)})"
                if name != "score"
                else f"{label} ({_fmt(low)}–{_fmt(high)})"
            )
            datasets[key] = [
                {
                    "date": d.isoformat(),
                    "value": values[name],
                    "label": f"{_fmt(values[name])} on {d.isoformat()}",
                }
                for d, values in entries
                if name in values
            ]
            for d, values in entries:
                if name in values:
                    rows.append(
                        (
                            d.isoformat(),
                            title,
                            _fmt(values[name]),
                        )
                    )
            panels.append((key, title, low, high))
    datasets["scale-sessions"] = [
        {"date": d.isoformat(), "label": f"Treatment session {d.isoformat()}"} for d in sessions
    ]
    spec = json.loads(_spec(tuple(panels), grades, x_domain, bool(sessions)))
    advisory = (
        " The T-score is advisory: its formula is not from the clinical fact sheet."
        if instrument == "gas"
        else ""
    )
    return Chart(
        name=f"scale-{instrument.replace('_', '-')}",
        title=f"{label} per cycle",
        description=(
            f"{label} over time on its full range, treatment sessions as dotted lines." + advisory
        ),
        spec=spec,
        datasets=datasets,
        table=Table(columns=("Date", "Measure", "Value"), rows=tuple(sorted(rows))),
    )
