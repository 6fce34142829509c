"""Property tests: safety caps always block, order never matters, billing units balance."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic_rules import run as _run

from .fixtures import diary_days


def run(name: str, doc: Any) -> Any:
    return _run(name, doc)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SESSION_DAY = date(2024, 6, 1)
INDICATIONS = [
    "chronic_migraine",
    "cervical_dystonia",
    "blepharospasm",
    "upper_limb_spasticity",
    "lower_limb_spasticity",
]
MUSCLE_FOR = {
    "chronic_migraine": "temporalis",
    "cervical_dystonia": "splenius_capitis",
    "blepharospasm": "orbicularis_oculi_pretarsal_upper_medial",
    "upper_limb_spasticity": "biceps_brachii",
    "lower_limb_spasticity": "soleus",
}

history_entry = st.builds(
    lambda days_ago, ind, units, product: {
        "date": (SESSION_DAY - timedelta(days=days_ago)).isoformat(),
        "product": product,
        "indication": ind,
        "total_units": units,
    },
    st.integers(0, 365),
    st.sampled_from(INDICATIONS),
    st.integers(1, 400),
    st.sampled_from(["onabotulinumtoxinA", "onabotulinumtoxinA", "abobotulinumtoxinA"]),
)
injection = st.builds(
    lambda ind, side, sites, units: {
        "indication": ind,
        "muscle": MUSCLE_FOR[ind],
        "side": side,
        "sites": sites,
        "units": units,
    },
    st.sampled_from(INDICATIONS),
    st.sampled_from(["left", "right", "bilateral"]),
    st.integers(1, 6),
    st.floats(0.5, 200, allow_nan=False).map(lambda x: round(x, 2)),
)


def dose_doc(
    history: list[Any], injections: list[Any], birth: str, weight: float | None, window: int
) -> dict[str, Any]:
    patient: dict[str, Any] = {"birth_date": birth}
    if weight is not None:
        patient["weight_kg"] = weight
    return {
        "as_of": SESSION_DAY.isoformat(),
        "patient": patient,
        "history": history,
        "session": {
            "date": SESSION_DAY.isoformat(),
            "product": "onabotulinumtoxinA",
            "injections": injections,
        },
        "policy": {"window_days": window},
    }


@FAST
@given(
    st.lists(history_entry, max_size=12),
    st.lists(injection, min_size=1, max_size=8),
    st.sampled_from(["1970-05-05", "2014-01-01", "2008-12-31"]),
    st.one_of(st.none(), st.floats(8, 120).map(lambda x: round(x, 1))),
    st.sampled_from([84, 90]),
)
def test_no_window_total_above_a_confirmed_cap_escapes_a_block(
    history: list[Any], injections: list[Any], birth: str, weight: float | None, window: int
) -> None:
    doc = dose_doc(history, injections, birth, weight, window)
    result = run("dose-check", doc)
    start = SESSION_DAY - timedelta(days=window - 1)
    total = sum(i["units"] for i in injections) + sum(
        h["total_units"]
        for h in history
        if h["product"] == "onabotulinumtoxinA" and date.fromisoformat(h["date"]) >= start
    )
    adult = birth == "1970-05-05"
    cap = 400 if adult else min(340, 10 * weight) if weight is not None else 340
    assert (
        result["totals"]["window_units"] == round(total, 2)
        or abs(result["totals"]["window_units"] - total) < 0.01
    )
    blocks = {f["rule_id"] for f in result["findings"] if f["severity"] == "block"}
    if total > cap + 1e-6:
        assert blocks & {"BTX-CUM-ADULT-400", "BTX-CUM-PEDS-10UKG-340"}
    if not adult and weight is None:
        assert "BTX-PEDS-WEIGHT-REQUIRED" in blocks
    for f in result["findings"]:
        assert f["confirmed"] or f["severity"] != "block"


@FAST
@given(
    st.lists(history_entry, max_size=8), st.lists(injection, min_size=1, max_size=8), st.randoms()
)
def test_order_of_history_and_injections_never_changes_the_result(
    history: list[Any], injections: list[Any], rnd: random.Random
) -> None:
    doc = dose_doc(history, injections, "1970-05-05", 70, 84)
    first = run("dose-check", doc)
    rnd.shuffle(doc["history"])
    rnd.shuffle(doc["session"]["injections"])
    assert run("dose-check", doc) == first


@FAST
@given(
    st.lists(st.integers(0, 30), min_size=4, max_size=4),
    st.lists(st.integers(0, 15), min_size=4, max_size=4),
    st.dictionaries(
        st.sampled_from(["triptan", "simple_analgesic", "opioid", "ergot"]),
        st.integers(0, 16),
        max_size=3,
    ),
    st.randoms(),
)
def test_order_of_diary_days_never_changes_the_result(
    headache: list[int], migraine: list[int], meds: dict[str, int], rnd: random.Random
) -> None:
    migraine = [min(m, h) for m, h in zip(migraine, headache, strict=True)]
    days = diary_days(headache=headache, migraine=migraine, meds=meds)
    doc = {"as_of": "2024-06-01", "days": days}
    first = run("diary-summary", doc)
    elig = {
        "as_of": "2024-06-01",
        "patient": {"birth_date": "1980-01-01"},
        "indication": "chronic_migraine",
        "days": days,
    }
    first_elig = run("eligibility", elig)
    rnd.shuffle(days)
    assert run("diary-summary", doc) == first
    assert run("eligibility", elig) == first_elig


@FAST
@given(
    st.lists(st.sampled_from([100, 200]), min_size=1, max_size=4),
    st.floats(0, 1).map(lambda x: round(x, 3)),
    st.sampled_from(["none", "emg", "estim", "ultrasound"]),
)
def test_billed_units_equal_given_plus_wasted_and_the_vials_opened(
    vials: list[int], fraction: float, guidance: str
) -> None:
    total = sum(vials)
    given_units = max(1, round(total * fraction))
    doc = {
        "session": {
            "date": "2024-06-01",
            "injections": [
                {"indication": "cervical_dystonia", "muscle": "scalenes", "side": "left"}
            ],
            "guidance": guidance,
            "vials": [{"size_units": v} for v in vials],
            "units_given": given_units,
        },
        "diagnoses": ["G24.3"],
    }
    result = run("billing-lines", doc)
    j_lines = [line for line in result["lines"] if line["code"] == "J0585"]
    billed = sum(line["units"] for line in j_lines)
    wasted = sum(line["units"] for line in j_lines if "JW" in line["modifiers"])
    assert billed == total == given_units + wasted
    assert len(j_lines) == (1 if given_units == total else 2)
    assert ("JZ" in j_lines[0]["modifiers"]) == (given_units == total)


def test_a_float_sum_that_misses_an_integer_by_rounding_error_reads_as_that_integer() -> None:
    from clinic_rules.model import num

    one_way, other_way = (0.1 + 0.2) + 0.7, 0.1 + (0.2 + 0.7)  # 1.0 and 0.9999999999999999
    assert one_way != other_way
    assert num(one_way) == num(other_way) == 1 and isinstance(num(other_way), int)
    assert str(num(70 + other_way)) == "71"
    assert num(70.994) == 70.99
