"""Property tests for the pediatric per-limb limits and the cumulative windows (issue 14, 1-2).

Every expectation is computed here by brute force, straight from the fact sheet's wording
(1.0, 1.5, 1.6): every window of N calendar days that contains the session, doses dated before
and after it alike; each limb treated on its own, a bilateral row half on each side. Units are
multiples of 0.5 so that sums are exact and "at the limit" is never a rounding question.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clinic_rules import InputError, run
from clinic_rules.data import default_policy
from clinic_rules.dose import evaluate, limb_units, worst_window
from clinic_rules.model import (
    BOTOX,
    DoseCheckInput,
    Indication,
    Injection,
    Patient,
    Session,
    Side,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = date(2024, 6, 1)
ADULT, CHILD = "1980-01-01", "2014-01-01"
CUM_RULES = {"BTX-CUM-ADULT-400", "BTX-CUM-PEDS-10UKG-340"}
LIMB_RULES = {"BTX-PEDS-ULS-6UKG-200", "BTX-PEDS-LLS-8UKG-300"}
MUSCLE_FOR = {
    "chronic_migraine": "temporalis",
    "cervical_dystonia": "splenius_capitis",
    "blepharospasm": "orbicularis_oculi_pretarsal_upper_medial",
    "upper_limb_spasticity": "pronator_teres",
    "lower_limb_spasticity": "soleus",
}
INDICATIONS = sorted(MUSCLE_FOR)
# Fact sheet 1.0, 1.5, 1.6 (S16, S17, S18, S19, S20): the numbers the brute force checks against.
ADULT_CAP = 400.0
PEDS_PER_KG, PEDS_CAP = 10.0, 340.0
ARM_PER_KG, ARM_CAP = 6.0, 200.0
LEG_PER_KG, LEG_CAP = 8.0, 300.0
BLEPH_CAP, BLEPH_DAYS = 200.0, 30

halves = st.integers(1, 600).map(lambda n: n / 2)
history_entry = st.builds(
    lambda offset, ind, units, product: {
        "date": (DAY + timedelta(days=offset)).isoformat(),
        "product": product,
        "indication": ind,
        "total_units": units,
    },
    st.integers(-200, 200),
    st.sampled_from(INDICATIONS),
    halves,
    st.sampled_from(["onabotulinumtoxinA"] * 3 + ["abobotulinumtoxinA"]),
)
injection = st.builds(
    lambda ind, side, units: {
        "indication": ind,
        "muscle": MUSCLE_FOR[ind],
        "side": side,
        "sites": 2,
        "units": units,
    },
    st.sampled_from(INDICATIONS),
    st.sampled_from(["left", "right", "bilateral"]),
    st.integers(1, 400).map(lambda n: n / 2),
)
limb_injection = st.builds(
    lambda ind, side, units: {
        "indication": ind,
        "muscle": MUSCLE_FOR[ind],
        "side": side,
        "sites": 2,
        "units": units,
    },
    st.sampled_from(["upper_limb_spasticity", "lower_limb_spasticity"]),
    st.sampled_from(["left", "right", "bilateral"]),
    st.integers(1, 500).map(lambda n: n / 2),
)


def doc(
    history: list[dict[str, Any]],
    injections: list[dict[str, Any]],
    birth: str = ADULT,
    weight: float | None = 70,
    window: int = 84,
    day: date = DAY,
) -> dict[str, Any]:
    patient: dict[str, Any] = {"birth_date": birth}
    if weight is not None:
        patient["weight_kg"] = weight
    as_of = max([day, *(date.fromisoformat(h["date"]) for h in history)])
    return {
        "as_of": as_of.isoformat(),
        "patient": patient,
        "history": history,
        "session": {
            "date": day.isoformat(),
            "product": "onabotulinumtoxinA",
            "injections": injections,
        },
        "policy": {"window_days": window},
    }


def check(document: dict[str, Any]) -> Any:
    return run("dose-check", document)


def blocks(result: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in result["findings"] if f["severity"] == "block"}


def every_window_total(
    history: list[dict[str, Any]], session_units: float, days: int, indication: str | None = None
) -> float:
    """The most units in any ``days``-day window containing DAY (brute force over every start)."""
    best = 0.0
    for start_offset in range(-(days - 1), 1):
        start = DAY + timedelta(days=start_offset)
        end = start + timedelta(days=days - 1)
        total = session_units + sum(
            h["total_units"]
            for h in history
            if h["product"] == "onabotulinumtoxinA"
            and (indication is None or h["indication"] == indication)
            and start <= date.fromisoformat(h["date"]) <= end
        )
        best = max(best, total)
    return best


@FAST
@given(
    st.lists(history_entry, max_size=10),
    st.lists(injection, min_size=1, max_size=6),
    st.sampled_from([ADULT, CHILD]),
    st.one_of(st.none(), st.integers(10, 60).map(float)),
    st.sampled_from([84, 90]),
)
def test_a_cumulative_block_exactly_when_some_window_containing_the_session_is_over(
    history: list[Any], injections: list[Any], birth: str, weight: float | None, window: int
) -> None:
    result = check(doc(history, injections, birth, weight, window))
    worst = every_window_total(history, sum(i["units"] for i in injections), window)
    cap = ADULT_CAP if birth == ADULT else min(PEDS_CAP, PEDS_PER_KG * (weight or PEDS_CAP))
    assert (worst > cap) == bool(blocks(result) & CUM_RULES)
    assert result["totals"]["window_units"] == worst
    start = date.fromisoformat(result["totals"]["window_start"])
    end = date.fromisoformat(result["totals"]["window_end"])
    assert start <= DAY <= end and (end - start).days == window - 1


@FAST
@given(
    st.lists(history_entry, max_size=10),
    st.integers(1, 60).map(lambda n: n / 2),
    st.lists(st.tuples(st.integers(-40, 40), st.integers(1, 300).map(lambda n: n / 2)), max_size=6),
)
def test_a_blepharospasm_block_exactly_when_some_30_day_period_containing_it_is_over(
    history: list[Any], units: float, bleph: list[tuple[int, float]]
) -> None:
    history = history + [
        {
            "date": (DAY + timedelta(days=offset)).isoformat(),
            "product": "onabotulinumtoxinA",
            "indication": "blepharospasm",
            "total_units": u,
        }
        for offset, u in bleph
    ]
    inj = {
        "indication": "blepharospasm",
        "muscle": MUSCLE_FOR["blepharospasm"],
        "side": "left",
        "sites": 1,
        "units": units,
    }
    result = check(doc(history, [inj]))
    worst = every_window_total(history, units, BLEPH_DAYS, "blepharospasm")
    assert (worst > BLEPH_CAP) == ("BTX-BLEPH-200-30D" in blocks(result))


def _mirror(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for h in history:
        offset = (date.fromisoformat(h["date"]) - DAY).days
        out.append({**h, "date": (DAY - timedelta(days=offset)).isoformat()})
    return out


@FAST
@given(
    st.lists(history_entry, max_size=10),
    st.lists(injection, min_size=1, max_size=6),
    st.sampled_from([ADULT, CHILD]),
    st.sampled_from([84, 90]),
)
def test_a_dose_counts_the_same_whether_it_is_dated_before_or_after_the_session(
    history: list[Any], injections: list[Any], birth: str, window: int
) -> None:
    """Mirroring every history date around the session date changes no window limit decision."""
    window_rules = CUM_RULES | {"BTX-BLEPH-200-30D"}
    before = check(doc(history, injections, birth, 30, window))
    after = check(doc(_mirror(history), injections, birth, 30, window))
    assert blocks(before) & window_rules == blocks(after) & window_rules
    assert before["totals"]["window_units"] == after["totals"]["window_units"]


@FAST
@given(
    st.lists(history_entry, max_size=8),
    st.tuples(st.sampled_from(INDICATIONS), halves),
    st.tuples(st.sampled_from(INDICATIONS), halves),
    st.integers(0, 120),
    st.sampled_from([ADULT, CHILD]),
)
def test_the_order_of_charting_never_lets_a_session_escape_a_window(
    history: list[Any],
    first: tuple[str, float],
    second: tuple[str, float],
    gap: int,
    birth: str,
) -> None:
    """Sessions A and B, ``gap`` days apart, each within the limits on its own: whichever is
    charted last, the decision about the pair is the same (a late-charted A is blocked by B on
    file exactly as B is blocked by A)."""
    window_rules = CUM_RULES | {"BTX-BLEPH-200-30D"}
    day_b = DAY + timedelta(days=gap)

    def entry(day: date, ind: str, units: float) -> dict[str, Any]:
        return {
            "date": day.isoformat(),
            "product": "onabotulinumtoxinA",
            "indication": ind,
            "total_units": units,
        }

    def inj(ind: str, units: float) -> dict[str, Any]:
        return {
            "indication": ind,
            "muscle": MUSCLE_FOR[ind],
            "side": "left",
            "sites": 2,
            "units": units,
        }

    for ind, units in (first, second):
        assume(not blocks(check(doc([], [inj(ind, units)], birth, 40))) & window_rules)
    # Only the two sessions: A charted late (B on file) and B charted on time (A on file).
    a_late = check(doc([entry(day_b, *second)], [inj(*first)], birth, 40))
    b_late = check(doc([entry(DAY, *first)], [inj(*second)], birth, 40, day=day_b))
    assert blocks(a_late) & window_rules == blocks(b_late) & window_rules
    # With more doses on file, a late-charted A is at least as constrained as without them.
    more = check(doc([*history, entry(day_b, *second)], [inj(*first)], birth, 40))
    assert blocks(a_late) & window_rules <= blocks(more) & window_rules


@FAST
@given(
    st.lists(limb_injection, min_size=1, max_size=6),
    st.integers(10, 60).map(float),
    st.sampled_from([ADULT, CHILD]),
)
def test_pediatric_limb_limits_apply_to_each_limb_treated(
    injections: list[Any], weight: float, birth: str
) -> None:
    result = check(doc([], injections, birth, weight))
    per_limb: dict[tuple[str, str], float] = defaultdict(float)
    for i in injections:
        sides = ["left", "right"] if i["side"] == "bilateral" else [i["side"]]
        for side in sides:
            per_limb[(i["indication"], side)] += i["units"] / len(sides)
    caps = {
        "upper_limb_spasticity": min(ARM_CAP, ARM_PER_KG * weight),
        "lower_limb_spasticity": min(LEG_CAP, LEG_PER_KG * weight),
    }
    rule_for = {
        "upper_limb_spasticity": "BTX-PEDS-ULS-6UKG-200",
        "lower_limb_spasticity": "BTX-PEDS-LLS-8UKG-300",
    }
    over = {rule_for[ind] for (ind, _side), units in per_limb.items() if units > caps[ind]}
    assert blocks(result) & LIMB_RULES == (over if birth == CHILD else set())
    combined = sum(i["units"] for i in injections)
    cum_cap = ADULT_CAP if birth == ADULT else min(PEDS_CAP, PEDS_PER_KG * weight)
    assert (combined > cum_cap) == bool(blocks(result) & CUM_RULES)


def test_a_midline_limb_row_is_an_input_error() -> None:
    row = {"indication": "lower_limb_spasticity", "muscle": "soleus", "side": "midline"}
    with pytest.raises(InputError) as exc:
        check(doc([], [{**row, "sites": 2, "units": 10}], CHILD, 25))
    assert exc.value.errors == {
        "session.injections.0.side": ["a limb is injected left, right or bilateral, not midline"]
    }


def test_a_midline_limb_row_reaching_the_engine_counts_on_both_limbs() -> None:
    """The contract refuses it; called directly, the engine errs on the side of caution."""
    legs = Indication.LOWER_LIMB_SPASTICITY
    row = Injection(legs, "soleus", Side.MIDLINE, 2, 201)
    assert limb_units([row]) == {(legs, Side.LEFT): 201, (legs, Side.RIGHT): 201}
    result = evaluate(
        DoseCheckInput(
            DAY,
            Patient(date(2014, 1, 1), 25.0),
            (),
            Session(DAY, BOTOX, (row,)),
            default_policy(),
        )
    )
    findings: Any = result["findings"]
    assert "BTX-PEDS-LLS-8UKG-300" in {f["rule_id"] for f in findings}


def test_worst_window_prefers_the_earliest_window_on_a_tie() -> None:
    dated = [(DAY - timedelta(days=10), 5.0), (DAY + timedelta(days=10), 5.0)]
    assert worst_window(dated, DAY, 15) == (DAY - timedelta(days=14), 5.0)
    assert worst_window(dated, DAY, 21) == (DAY - timedelta(days=10), 10.0)
    assert worst_window([], DAY, 84) == (DAY - timedelta(days=83), 0.0)
