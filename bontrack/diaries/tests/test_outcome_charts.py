"""The patient's outcome charts show the clinic_rules figures: each chart's data equals what
``diary-summary`` (periods, baseline, day classes) and the SCORE rules give, its table equals its
data, and the diary page renders all four with their tables."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta

import pytest
import vl_convert as vlc

from bontrack.diaries import facts
from bontrack.diaries.actions import actors
from bontrack.diaries.models import DiaryDay
from bontrack.diaries.tests.conftest import build_diary
from clinic_rules.data import rule

pytestmark = pytest.mark.django_db

MEASURES = {
    "Headache days": "headache_days",
    "Migraine days": "migraine_days",
    "Acute-medication days": "any_acute_medication_days",
}


def test_every_chart_is_valid_vega_lite(treated):
    patient, today, _ = treated
    out = facts.outcome_charts(patient, today)
    for key in ("periods", "cycles", "score_chart", "calendar"):
        spec = out[key].to_dict(validate=True)
        assert vlc.vegalite_to_vega(spec)["marks"], key


def test_the_period_chart_shows_the_clinic_rules_counts_of_each_period(treated):
    patient, today, _ = treated
    chart = facts.outcome_charts(patient, today)["periods"]
    expected = facts.diary_summary(patient, today - timedelta(days=facts.HISTORY_DAYS), today)
    want = {
        (f"{p['start']} to {p['end']}", label): p[key]
        for p in expected["periods"]
        if p["recorded_days"]
        for label, key in MEASURES.items()
    }
    got = {(r["period"], r["measure"]): r["days"] for r in chart.datasets["periods"]}
    assert got == want
    n = facts.period_days()
    assert all(p["days"] == n for p in expected["periods"])
    spec = chart.to_dict()
    y = spec["layer"][-1]["encoding"]["y"]
    assert y["title"] == f"Days per {n}-day period" and y["scale"]["domain"] == [0, n]


def test_the_baseline_is_the_period_before_the_first_session(treated):
    patient, today, (first, _) = treated
    chart = facts.outcome_charts(patient, today)["periods"]
    n = facts.period_days()
    window = facts.diary_summary(patient, first - timedelta(days=n), first - timedelta(days=1))
    base = window["periods"][-1]
    assert base["end"] == (first - timedelta(days=1)).isoformat()
    got = {r["measure"]: r["days"] for r in chart.datasets["baseline"]}
    assert got == {label: base[key] for label, key in MEASURES.items()}
    # the raw diary agrees: every headache row of the window is a headache day
    raw = DiaryDay.objects.filter(
        patient=patient, headache=True, date__gte=first - timedelta(days=n), date__lt=first
    ).count()
    assert got["Headache days"] == raw
    assert chart.table.rows[0][0] == f"Baseline {base['start']} to {base['end']}"
    assert [r["date"] for r in chart.datasets["sessions"]] == [s.isoformat() for s in treated[2]]


def test_the_cycle_overlay_counts_headache_days_per_week_after_each_session(treated):
    patient, today, sessions = treated
    chart = facts.outcome_charts(patient, today)["cycles"]
    rows = chart.datasets["weeks"]
    assert {r["cycle"] for r in rows} == {
        f"{n} ({s.isoformat()})" for n, s in enumerate(sessions, start=1)
    }
    for n, session in enumerate(sessions, start=1):
        stop = sessions[n] - timedelta(days=1) if n < len(sessions) else today
        mine = [r for r in rows if r["cycle"].startswith(f"{n} (")]
        weeks = [r["week"] for r in mine]
        assert weeks == list(range(len(weeks))) and max(weeks) <= 12
        for r in mine:
            lo = session + timedelta(days=7 * r["week"])
            hi = min(lo + timedelta(days=6), stop)
            days = DiaryDay.objects.filter(patient=patient, date__gte=lo, date__lte=hi)
            assert r["recorded"] == days.count()
            assert r["headache"] == days.filter(headache=True).count()
            assert r["per_week"] == round(r["headache"] * 7 / r["recorded"], 1)
    assert [(c, s, w, rec, h, p) for c, s, w, rec, h, p in chart.table.rows] == [
        (
            int(r["cycle"].split()[0]),
            r["cycle"].split("(")[1].rstrip(")"),
            r["week"],
            r["recorded"],
            r["headache"],
            r["per_week"],
        )
        for r in rows
    ]


def test_the_scales_are_drawn_on_their_true_ranges(treated):
    patient, today, _ = treated
    chart = facts.outcome_charts(patient, today)["score_chart"]
    series = facts.score_series(patient)
    for instrument in ("midas", "hit6"):
        want = [
            (s["date"].isoformat(), s["score"]) for s in series if s["instrument"] == instrument
        ]
        assert [(r["date"], r["score"]) for r in chart.datasets[instrument]] == want
    spec = chart.to_dict()
    midas_panel, hit6_panel = spec["vconcat"]
    hit6 = rule("SCORE-HIT6").params
    n_items, points = len(hit6["items"]), hit6["points"].values()
    hit6_y = hit6_panel["layer"][-1]["encoding"]["y"]
    assert hit6_y["scale"]["domain"] == [n_items * min(points), n_items * max(points)] == [36, 78]
    assert hit6_y["title"] == "HIT-6 (points, 36–78)"
    midas_y = midas_panel["layer"][-1]["encoding"]["y"]
    lo, hi = midas_y["scale"]["domain"]
    top_grade = rule("SCORE-MIDAS").params["grades"][-1]["min"]
    midas_scores = [s["score"] for s in series if s["instrument"] == "midas"]
    assert lo == 0 and hi > max(midas_scores) and hi >= 2 * top_grade
    assert [b["lo"] for b in chart.datasets["midas-bands"]] == [
        g["min"] for g in rule("SCORE-MIDAS").params["grades"]
    ]
    assert [b["lo"] for b in chart.datasets["hit6-bands"]] == [b["min"] for b in hit6["bands"]]


def test_the_calendar_counts_equal_the_clinic_rules_day_classes(treated):
    patient, today, _ = treated
    out = facts.outcome_charts(patient, today)
    chart = out["calendar"]
    labels = dict(zip(chart.table.columns[1:], range(5), strict=True))
    by_day = {r["date"]: r["class"] for r in chart.datasets["days"]}
    summary_days = {d["date"]: d["class"] for d in out["summary"]["days"]}
    for iso, label in by_day.items():
        from bontrack.diaries.charts import CLASS_LABELS

        assert label == CLASS_LABELS[summary_days.get(iso, "missing")], iso
    counts = Counter((r["key"], r["class"]) for r in chart.datasets["days"])
    for month, *cells in chart.table.rows:
        for label, n in zip(chart.table.columns[1:], cells, strict=True):
            assert counts[(month, label)] == n
    assert labels  # five classes
    assert max(by_day) == today.isoformat()


def test_the_period_table_equals_the_charted_data(treated):
    patient, today, _ = treated
    chart = facts.outcome_charts(patient, today)["periods"]
    data: dict[str, dict[str, int]] = {}
    for r in chart.datasets["periods"]:
        data.setdefault(r["period"], {})[r["measure"]] = r["days"]
    table = {row[0]: row[2:5] for row in chart.table.rows[1:]}
    assert table == {p: tuple(m[label] for label in MEASURES) for p, m in data.items()}


def test_the_diary_page_renders_the_four_charts_with_tables(world, treated):
    patient, _, _ = treated
    response = world.client("physician").get(f"/diaries/patients/{patient.pk}/")
    html = response.content.decode()
    for name in ("diary-periods", "diary-cycles", "diary-calendar", "diary-scores"):
        assert f'id="chart-{name}"' in html
        block = re.search(
            rf'<script id="chart-{name}-spec" type="application/json">(.*?)</script>', html, re.S
        )
        assert block and json.loads(block.group(1))["datasets"], name
    assert html.count("<summary>Show as table</summary>") == 4
    assert html.count('class="chart-static" src="data:image/svg+xml;base64,') == 4


def test_a_patient_without_sessions_has_no_baseline_and_no_cycles(world, cm_patient):
    today = actors.local_today()
    build_diary(cm_patient, end=today, days=60)
    out = facts.outcome_charts(cm_patient, today)
    assert out["periods"].datasets["baseline"] == []
    assert out["cycles"].empty
    page = world.client("physician").get(f"/diaries/patients/{cm_patient.pk}/")
    assert b"No treatment session yet" in page.content
