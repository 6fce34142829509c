"""Server-rendered SVG chart geometry for the staff diary page (no clinical logic here).

Day classes and period counts come from clinic_rules ``diary-summary``; this module only lays
them out: a months x days heat map, bars per diary period (program policy), and score lines.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.html import escape
from django.utils.safestring import mark_safe

CLASS_LABELS = {
    "migraine": "Migraine",
    "probable_migraine": "Probable migraine",
    "headache": "Headache",
    "headache_free": "Headache-free",
    "missing": "Missing",
}
CELL = 14
GAP = 2
LABEL_W = 64


@dataclass
class HeatCell:
    x: int
    y: int
    day: date
    cls: str

    @property
    def title(self) -> str:
        return f"{self.day.isoformat()}: {CLASS_LABELS[self.cls]}"


@dataclass
class HeatMap:
    width: int
    height: int
    rows: list[tuple[int, str]] = field(default_factory=list)  # (y, "2025-03")
    cells: list[HeatCell] = field(default_factory=list)
    columns: list[tuple[int, int]] = field(default_factory=list)  # (x, day number)

    @property
    def cells_svg(self) -> str:
        """The day squares as SVG markup (built here: a template loop over 1,000+ cells is slow).

        Every interpolated value is an int, an ISO date or a fixed label: nothing to escape."""
        return mark_safe(  # noqa: S308 - ints, ISO dates and constant labels only
            "".join(
                f'<rect class="c-{c.cls}" x="{c.x}" y="{c.y}" width="{CELL}" height="{CELL}" '
                f'rx="2"><title>{c.day.isoformat()}: {CLASS_LABELS[c.cls]}</title></rect>'
                for c in self.cells
            )
        )


def heat_map(classes: dict[date, str], start: date, end: date) -> HeatMap:
    months: list[tuple[int, int]] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    top = 18
    hm = HeatMap(width=LABEL_W + 31 * (CELL + GAP), height=top + len(months) * (CELL + GAP))
    hm.columns = [
        (LABEL_W + (d - 1) * (CELL + GAP) + CELL // 2, d) for d in (1, 5, 10, 15, 20, 25, 31)
    ]
    for row, (yy, mm) in enumerate(months):
        ry = top + row * (CELL + GAP)
        hm.rows.append((ry + CELL - 3, f"{calendar.month_abbr[mm]} {yy}"))
        for d in range(1, calendar.monthrange(yy, mm)[1] + 1):
            day = date(yy, mm, d)
            if day < start or day > end:
                continue
            hm.cells.append(
                HeatCell(LABEL_W + (d - 1) * (CELL + GAP), ry, day, classes.get(day, "missing"))
            )
    return hm


@dataclass
class Bar:
    x: float
    y: float
    h: float
    kind: str
    value: int
    title: str


@dataclass
class BarChart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)
    gridlines: list[tuple[float, int]] = field(default_factory=list)
    sessions: list[tuple[float, str]] = field(default_factory=list)
    bar_w: float = 6

    @property
    def svg(self) -> str:
        """Gridlines, bars, session markers and labels as SVG markup, built in one pass (a
        template loop with ``floatformat`` per attribute was a third of the page's time)."""
        out: list[str] = []
        for y, g in self.gridlines:
            out.append(
                f'<line x1="32" x2="{self.width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dde3"/>'
                f'<text x="28" y="{y:.1f}" text-anchor="end" dy="3">{g}</text>'
            )
        w = f"{self.bar_w:.1f}"
        for b in self.bars:
            out.append(
                f'<rect class="bar-{b.kind}" x="{b.x:.1f}" y="{b.y:.1f}" width="{w}" '
                f'height="{b.h:.1f}"><title>{escape(b.title)}</title></rect>'
            )
        for x, t in self.sessions:
            out.append(
                f'<g><title>{escape(t)}</title><line class="session-mark" x1="{x:.1f}" '
                f'x2="{x:.1f}" y1="{self.plot_top}" y2="{self.plot_bottom}"/>'
                f'<path d="M{x:.1f},{self.plot_bottom} l-5,10 h10 z"/></g>'
            )
        for x, label in self.labels:
            out.append(
                f'<text x="{x:.1f}" y="{self.height - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
        return mark_safe("".join(out))  # noqa: S308 - numbers and escaped text only


def bar_chart(periods: list[dict[str, Any]], sessions: list[date], period_days: int) -> BarChart:
    """Headache, migraine and acute-medication days per period; sessions as markers. The y axis
    reaches at least the length of a period (every day of it a headache day)."""
    n = max(len(periods), 1)
    group = max(24, min(48, 900 // n))
    bar_w = (group - 6) / 3
    left, top, plot_h = 36, 14, 160
    chart = BarChart(
        width=left + n * group + 10,
        height=top + plot_h + 40,
        plot_top=top,
        plot_bottom=top + plot_h,
        bar_w=bar_w,
    )
    ymax = max([period_days] + [int(p["headache_days"]) for p in periods])
    scale = plot_h / ymax
    for g in range(0, ymax + 1, 7):
        chart.gridlines.append((top + plot_h - g * scale, g))
    for i, p in enumerate(periods):
        gx = left + i * group + 3
        for k, (kind, label) in enumerate(
            (
                ("headache_days", "headache days"),
                ("migraine_days", "migraine days"),
                ("medication_days", "acute-medication days"),
            )
        ):
            v = int(p[kind])
            h = v * scale
            chart.bars.append(
                Bar(
                    gx + k * bar_w,
                    top + plot_h - h,
                    h,
                    kind,
                    v,
                    f"{p['start']} to {p['end']}: {v} {label}",
                )
            )
        if i % max(1, n // 12) == 0:
            chart.labels.append((gx + bar_w * 1.5, str(p["start"])[:7]))
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        for s in sessions:
            if start <= s <= end:
                frac = ((s - start).days + 0.5) / ((end - start).days + 1)
                chart.sessions.append(
                    (gx + frac * (group - 6), f"Treatment session {s.isoformat()}")
                )
    return chart


@dataclass
class ScoreChart:
    width: int
    height: int
    series: list[dict[str, Any]] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)


def score_chart(scores: list[dict[str, Any]]) -> ScoreChart:
    """One line per instrument on its own scale (MIDAS 0-max, HIT-6 36-78 contract range)."""
    chart = ScoreChart(width=620, height=200)
    valid = [s for s in scores if s["valid"] and s["score"] is not None]
    if not valid:
        return chart
    d0 = min(s["date"] for s in valid)
    d1 = max(s["date"] for s in valid)
    span = max((d1 - d0).days, 1)
    left, right, top, bottom = 40, 600, 16, 170
    ranges = {
        "midas": (
            0.0,
            max(
                40.0,
                max(s["score"] for s in valid if s["instrument"] == "midas")
                if any(s["instrument"] == "midas" for s in valid)
                else 40.0,
            ),
        ),
        "hit6": (36.0, 78.0),
    }
    for instrument, label in (("midas", "MIDAS"), ("hit6", "HIT-6")):
        pts = []
        lo, hi = ranges[instrument]
        for s in valid:
            if s["instrument"] != instrument:
                continue
            x = left + (right - left) * (s["date"] - d0).days / span
            y = bottom - (bottom - top) * (s["score"] - lo) / (hi - lo or 1)
            pts.append(
                {
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "title": f"{label} {s['score']:g} on {s['date'].isoformat()}",
                }
            )
        if pts:
            chart.series.append(
                {
                    "instrument": instrument,
                    "label": f"{label} (scale {lo:g}–{hi:g})",
                    "points": pts,
                    "path": " ".join(f"{p['x']},{p['y']}" for p in pts),
                }
            )
    chart.labels = [(left, d0.isoformat()), (right, d1.isoformat())]
    return chart


def medication_days(docs: list[dict[str, Any]], start: date, end: date) -> int:
    return sum(
        1
        for d in docs
        if d["acute_medications"] and start.isoformat() <= str(d["date"]) <= end.isoformat()
    )


def week_strip(recorded: dict[date, str], today: date, days: int) -> list[dict[str, Any]]:
    """The last ``days`` days for the portal calendar, newest last."""
    out = []
    for k in range(days - 1, -1, -1):
        d = today - timedelta(days=k)
        out.append({"date": d, "state": recorded.get(d, "missing")})
    return out
