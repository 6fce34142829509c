"""Builders for case-file inputs (referenced by name from ``cases/*.toml``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from clinic_rules import preempt_template

Doc = dict[str, Any]
BOTOX = "onabotulinumtoxinA"


def cm_155(**kw: Any) -> Doc:
    """Adult PREEMPT 155 U session on 2024-06-01, one 200 U/4 mL vial 2 h old."""
    injections = [
        {
            "indication": "chronic_migraine",
            "muscle": r["muscle"],
            "side": r["side"],
            "sites": r["sites"],
            "units": r["units"],
        }
        for r in preempt_template()
    ]
    return {
        "as_of": "2024-06-01",
        "patient": {"birth_date": kw.get("birth_date", "1980-01-01"), "weight_kg": 70, "flags": []},
        "history": [],
        "session": {
            "date": "2024-06-01",
            "performed_at": "2024-06-01T10:00:00+00:00",
            "product": BOTOX,
            "injections": injections,
            "vials": [
                {
                    "size_units": 200,
                    "diluent_ml": 4,
                    "reconstituted_at": "2024-06-01T08:00:00+00:00",
                }
            ],
        },
    }


def single(
    indication: str = "cervical_dystonia",
    muscle: str = "splenius_capitis",
    side: str = "left",
    sites: int = 1,
    units: float = 50,
    birth_date: str = "1980-01-01",
    weight_kg: float | None = 70,
) -> Doc:
    """One injection row on 2024-06-01, no vials, empty history."""
    patient: Doc = {"birth_date": birth_date, "flags": []}
    if weight_kg is not None:
        patient["weight_kg"] = weight_kg
    return {
        "as_of": "2024-06-01",
        "patient": patient,
        "history": [],
        "session": {
            "date": "2024-06-01",
            "product": BOTOX,
            "injections": [
                {
                    "indication": indication,
                    "muscle": muscle,
                    "side": side,
                    "sites": sites,
                    "units": units,
                }
            ],
        },
    }


MIGRAINE_DAY: Doc = {
    "headache": True,
    "hours": 6,
    "severity": 3,
    "unilateral": True,
    "pulsating": True,
    "nausea": True,
}
PLAIN_HEADACHE: Doc = {"headache": True, "hours": 5, "severity": 1}


def diary_days(
    as_of: str = "2024-06-01",
    periods: int = 4,
    period_days: int = 30,
    headache: int | list[int] = 15,
    migraine: int | list[int] = 8,
    missing: int = 0,
    meds: dict[str, int] | None = None,
    plain_hours: float = 5,
) -> list[Doc]:
    """Periods counted back from as_of; in each, the first ``migraine`` days are migraine days,
    the next ``headache - migraine`` plain headache days (5 h, mild), then ``missing`` days
    left out, the rest headache-free. ``meds`` = class -> days per period, in consecutive
    non-overlapping blocks from the first day of the period.
    Lists give per-period values, most recent period first."""
    end = date.fromisoformat(as_of)
    out: list[Doc] = []
    for k in range(periods):
        h = headache[k] if isinstance(headache, list) else headache
        m = migraine[k] if isinstance(migraine, list) else migraine
        start = end - timedelta(days=(k + 1) * period_days - 1)
        for i in range(period_days):
            day = start + timedelta(days=i)
            if i < m:
                entry = dict(MIGRAINE_DAY)
            elif i < h:
                entry = dict(PLAIN_HEADACHE, hours=plain_hours)
            elif i < h + missing:
                continue
            else:
                entry = {"headache": False}
            medications = []
            offset = 0
            for cls, n in (meds or {}).items():
                if offset <= i < offset + n:
                    medications.append({"class": cls})
                offset += n
            if medications:
                entry["acute_medications"] = medications
            entry["date"] = day.isoformat()
            out.append(entry)
    return out


def diary(**kw: Any) -> Doc:
    period_days = kw.get("period_days", 30)
    return {
        "as_of": kw.get("as_of", "2024-06-01"),
        "period_days": period_days,
        "days": diary_days(**kw),
    }


def eligibility(**kw: Any) -> Doc:
    """Adult chronic-migraine candidate with 3 failed preventive classes."""
    doc = diary(**kw)
    doc.update(
        patient={"birth_date": "1980-01-01", "flags": []},
        indication="chronic_migraine",
        prior_preventives=[
            {"drug": "propranolol", "class": "beta_blocker", "outcome": "ineffective"},
            {"drug": "topiramate", "class": "antiepileptic", "outcome": "not_tolerated"},
            {
                "drug": "amitriptyline",
                "class": "tricyclic_antidepressant",
                "outcome": "ineffective",
            },
        ],
    )
    return doc


def response(
    sessions: list[str] | None = None,
    as_of: str = "2024-09-20",
    baseline: int = 20,
    cycles: list[int] | None = None,
    rule_set: str = "ahs",
) -> Doc:
    """Baseline: ``baseline`` headache days in the 28 days before the first session; cycle n:
    ``cycles[n-1]`` headache days in its 28-day window; all other days headache-free."""
    sessions = sessions or ["2024-01-05", "2024-03-29", "2024-06-21"]
    cycles = cycles if cycles is not None else [10, 10, 10]
    dates = [date.fromisoformat(s) for s in sessions]
    stop = date.fromisoformat(as_of)
    windows = [(dates[0] - timedelta(days=28), baseline)]
    for n, count in enumerate(cycles):
        end = dates[n + 1] if n + 1 < len(dates) else stop
        windows.append((end - timedelta(days=28), count))
    days: list[Doc] = []
    day = windows[0][0]
    while day < stop:
        entry: Doc = {"headache": False}
        for start, count in windows:
            if start <= day < start + timedelta(days=count):
                entry = dict(PLAIN_HEADACHE)
        entry["date"] = day.isoformat()
        days.append(entry)
        day += timedelta(days=1)
    return {
        "as_of": as_of,
        "sessions": [{"date": s, "indication": "chronic_migraine"} for s in sessions],
        "days": days,
        "rule_set": rule_set,
    }


FIXTURES: dict[str, Callable[..., Doc]] = {
    "cm_155": cm_155,
    "single": single,
    "diary": diary,
    "eligibility": eligibility,
    "response": response,
}
