"""Outcome scales, their schedule against the cycle, the cycle review and its suggestions.

The one door from the treatments app to ``clinic_rules`` for scales: every score, window, change
and suggestion is computed there (``questionnaire``, ``scale-schedule``, ``cycle-review``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from clinic_rules import contract, questionnaires, scales
from clinic_rules.contract import InputError as InputError
from clinic_rules.data import rule

# The scales' own labels: unit and range shown on the chart axis.
LABELS: Mapping[str, str] = {
    "twstrs": "TWSTRS",
    "tsui": "Tsui scale",
    "jankovic": "Jankovic Rating Scale",
    "bdi": "Blepharospasm Disability Index",
    "mas": "Modified Ashworth Scale",
    "gas": "Goal attainment scaling",
    "pain_nrs": "Pain rating (0-10)",
}
MEASURE_LABELS: Mapping[str, str] = {
    "score": "total",
    "severity": "severity",
    "disability": "disability",
    "pain": "pain",
    "frequency": "frequency",
}


def scale_indications() -> tuple[str, ...]:
    return scales.indications()


def effect_suggestion_indications() -> tuple[str, ...]:
    """Indications whose suggestions an adverse effect alone can bring (chronic migraine too)."""
    return scales.effect_suggestion_indications()


def instruments_for(indication: str) -> tuple[str, ...]:
    return scales.instruments_for(indication)


def patient_reported() -> dict[str, tuple[str, ...]]:
    """Instrument -> the subscales the patient reports (empty: the whole instrument)."""
    return scales.patient_reported()


def bdi_items() -> tuple[str, ...]:
    return rule("SCORE-BDI").strs("items")


def twstrs_disability_items() -> tuple[tuple[str, ...], int]:
    """The TWSTRS disability items and their highest answer (the portal asks the items)."""
    r = rule("SCORE-TWSTRS-DISABILITY-ITEMS")
    return r.strs("items"), r.int_("item_max")


def mas_grades() -> dict[str, str]:
    return {str(k): str(v) for k, v in rule("SCORE-MAS").table("grades").items()}


def mas_order() -> tuple[str, ...]:
    return rule("SCORE-MAS-ORDER").strs("order")


def gas_limits() -> dict[str, int]:
    r = rule("SCORE-GAS")
    return {k: r.int_(k) for k in ("goals_max", "level_min", "level_max", "weight_max")}


def review_after_cycles() -> int:
    return rule("FOLLOWUP-SCALE-WINDOWS").int_("review_after_cycles")


def gas_t_range() -> tuple[float, float]:
    """The lowest and highest T-score: every goal (the most goals) at the lowest or highest level."""
    lim = gas_limits()
    n = lim["goals_max"]
    low = questionnaires.gas_t_score([(1, lim["level_min"])] * n)
    high = questionnaires.gas_t_score([(1, lim["level_max"])] * n)
    return float(math.floor(low)), float(math.ceil(high))


def bound(instrument: str, key: str) -> int:
    """An upper bound of a scale item from the score rules (forms show it; contract checks it)."""
    names = {
        "twstrs": ("SCORE-TWSTRS", {"disability_max": "disability_max_alternative"}),
        "jankovic": ("SCORE-JANKOVIC", {}),
        "tsui": ("SCORE-TSUI", {}),
        "bdi": ("SCORE-BDI", {}),
        "pain_nrs": ("SCORE-PAIN-NRS", {}),
    }
    rule_id, aliases = names[instrument]
    return rule(rule_id).int_(aliases.get(key, key))


# Axis ranges per chart measure: (low, high) from the score rules.
def measure_range(instrument: str, measure: str) -> tuple[float, float]:
    if instrument == "mas":
        return 0.0, float(len(mas_order()) - 1)
    if instrument == "gas":
        return gas_t_range()
    if instrument == "twstrs":
        tw = rule("SCORE-TWSTRS")
        tops = {
            "severity": tw.int_("severity_max"),
            "disability": tw.int_("disability_max_alternative"),
            "pain": tw.int_("pain_max"),
        }
        return 0.0, float(tops.get(measure, sum(tops.values())))
    if instrument == "jankovic":
        jr = rule("SCORE-JANKOVIC")
        tops = {"severity": jr.int_("severity_max"), "frequency": jr.int_("frequency_max")}
        return 0.0, float(tops.get(measure, sum(tops.values())))
    if instrument == "tsui":
        return 0.0, float(rule("SCORE-TSUI").int_("total_max"))
    if instrument == "bdi":
        r = rule("SCORE-BDI")
        return 0.0, float(r.int_("item_max") * len(r.strs("items")))
    return 0.0, float(rule("SCORE-PAIN-NRS").int_("max"))


def score(instrument: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Score and validate (raises ``InputError`` with ``answers.<field>`` paths)."""
    return contract.run("questionnaire", {"instrument": instrument, "answers": dict(answers)})


def measures(instrument: str, answers: Mapping[str, Any]) -> dict[str, float]:
    return scales.measures(instrument, answers)


def schedule(
    indication: str, as_of: date, sessions: Iterable[date], entries: Iterable[tuple[str, date]]
) -> dict[str, Any]:
    return contract.run(
        "scale-schedule",
        {
            "indication": indication,
            "as_of": as_of.isoformat(),
            "sessions": sorted({d.isoformat() for d in sessions}),
            "entries": [{"instrument": i, "date": d.isoformat()} for i, d in entries],
        },
    )


def cycle_review(
    indication: str,
    as_of: date,
    cycles: Sequence[Mapping[str, Any]],
    entries: Iterable[tuple[date, str, Mapping[str, Any]]],
    injections: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """``cycles``: ``[{date, wearing_off: date|None, adverse_effects: [kind]}]``."""
    return contract.run(
        "cycle-review",
        {
            "indication": indication,
            "as_of": as_of.isoformat(),
            "sessions": [
                {
                    "date": c["date"].isoformat(),
                    **({"wearing_off": c["wearing_off"].isoformat()} if c["wearing_off"] else {}),
                    "adverse_effects": sorted(set(c["adverse_effects"])),
                }
                for c in cycles
            ],
            "entries": [
                {
                    "date": d.isoformat(),
                    "questionnaire": {"instrument": i, "answers": dict(a)},
                }
                for d, i, a in entries
                if d <= as_of
            ],
            "injections": [
                {
                    "muscle": str(x["muscle"]),
                    "side": str(x["side"]),
                    "sites": int(x["sites"]),
                    "units": float(x["units"]),
                }
                for x in injections
            ],
        },
    )
