"""Outcome scales of the other indications: scoring tables, the schedule, the review, suggestions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clinic_rules import contract, scales
from clinic_rules.contract import InputError
from clinic_rules.data import rule_set


def q(instrument: str, answers: dict[str, Any]) -> Any:
    return contract.run("questionnaire", {"instrument": instrument, "answers": answers})


# ---- scoring tables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "score", "subscales"),
    [
        (
            {"severity": 20, "disability": 15, "pain": 10},
            45,
            {"severity": 20, "disability": 15, "pain": 10},
        ),
        ({"disability": 10, "pain": 5}, None, {"disability": 10, "pain": 5}),
        (
            {"severity": 35, "disability": 32, "pain": 20},
            87,
            {"severity": 35, "disability": 32, "pain": 20},
        ),
    ],
)
def test_twstrs_keeps_subscales_and_totals_only_when_all_three(
    answers: Any, score: Any, subscales: Any
) -> None:
    out = q("twstrs", answers)
    assert out["score"] == score and out["subscales"] == subscales


_TW_ITEMS = rule_set("scores")["SCORE-TWSTRS-DISABILITY-ITEMS"]


def test_twstrs_disability_from_its_six_items_at_zero_and_the_top() -> None:
    items = _TW_ITEMS.strs("items")
    top = _TW_ITEMS.int_("item_max")
    assert len(items) == 6 and top == 5
    for value, total in ((0, 0), (top, 30), (2, 12)):
        out = q("twstrs", {"disability_items": dict.fromkeys(items, value), "pain": 4})
        assert out["subscales"] == {"disability": total, "pain": 4}
        assert out["disability_items"] == dict.fromkeys(items, value)
        assert "SCORE-TWSTRS-DISABILITY-ITEMS" in out["rule_ids"]
    full = q("twstrs", {"severity": 10, "disability_items": dict.fromkeys(items, 1), "pain": 4})
    assert full["score"] == 20


@pytest.mark.parametrize(
    "answers",
    [
        {"disability_items": {"work": 6}},  # above the item's range, and the others missing
        {"disability_items": dict.fromkeys(_TW_ITEMS.strs("items")[:5], 1)},  # one missing
        {"disability": 3, "disability_items": dict.fromkeys(_TW_ITEMS.strs("items"), 1)},
        {"disability_items": {**dict.fromkeys(_TW_ITEMS.strs("items"), 1), "walking": 1}},
    ],
)
def test_twstrs_disability_items_refused(answers: Any) -> None:
    with pytest.raises(InputError):
        q("twstrs", answers)


def test_twstrs_needs_a_subscale() -> None:
    with pytest.raises(InputError) as exc:
        q("twstrs", {})
    assert "answers" in exc.value.errors


@pytest.mark.parametrize(
    ("answers", "score", "na"),
    [
        ({"driving": 2, "reading": 3}, 5, 4),
        (dict.fromkeys(rule_set("scores")["SCORE-BDI"].strs("items"), 4), 24, 0),
        (dict.fromkeys(rule_set("scores")["SCORE-BDI"].strs("items"), 0), 0, 0),
    ],
)
def test_bdi_sums_answered_items(answers: Any, score: Any, na: Any) -> None:
    out = q("bdi", answers)
    assert out["score"] == score and len(out["not_applicable"]) == na


def test_bdi_all_not_applicable_has_no_total() -> None:
    out = q("bdi", {})
    assert out["valid"] is False and out["score"] is None


def test_bdi_item_above_four_is_refused() -> None:
    with pytest.raises(InputError):
        q("bdi", {"driving": 5})


@pytest.mark.parametrize(
    ("grade", "position"), [("0", 0), ("1", 1), ("1+", 2), ("2", 3), ("3", 4), ("4", 5)]
)
def test_mas_keeps_one_plus_as_its_own_grade(grade: Any, position: Any) -> None:
    out = q("mas", {"entries": [{"muscle": "elbow_flexors", "side": "left", "grade": grade}]})
    sub = out["subscales"]["elbow_flexors:left"]
    assert sub["grade"] == grade and sub["position"] == position


def test_mas_per_muscle_highest_grade_and_duplicates() -> None:
    out = q(
        "mas",
        {
            "entries": [
                {"muscle": "elbow_flexors", "side": "left", "grade": "1+"},
                {"muscle": "wrist_flexors", "side": "left", "grade": "1"},
            ]
        },
    )
    assert out["grade"] == "1+" and out["score"] is None
    with pytest.raises(InputError):
        q(
            "mas",
            {
                "entries": [
                    {"muscle": "elbow_flexors", "side": "left", "grade": "1"},
                    {"muscle": "elbow_flexors", "side": "left", "grade": "2"},
                ]
            },
        )
    with pytest.raises(InputError):
        q("mas", {"entries": [{"muscle": "elbow", "side": "left", "grade": "5"}]})


@pytest.mark.parametrize(("score", "ok"), [(0, True), (10, True), (11, False), (-1, False)])
def test_pain_nrs_range(score: Any, ok: Any) -> None:
    if ok:
        assert q("pain_nrs", {"score": score})["score"] == score
    else:
        with pytest.raises(InputError):
            q("pain_nrs", {"score": score})


@pytest.mark.parametrize(
    ("goals", "t"),
    [
        ([(1, 0)], 50.0),
        ([(1, 0), (1, 0), (1, 0)], 50.0),
        # one goal: 50 + 10 * x / sqrt(0.7 + 0.3) = 50 + 10x
        ([(1, 2)], 70.0),
        ([(1, -2)], 30.0),
        # two goals weight 2 level +1 and weight 1 level 0: 50 + 10*2/sqrt(0.7*5 + 0.3*9) = 58.0
        ([(2, 1), (1, 0)], 58.0),
    ],
)
def test_gas_t_score_is_advisory(goals: Any, t: Any) -> None:
    out = q(
        "gas",
        {
            "goals": [
                {"goal": f"goal {i}", "weight": w, "level": x} for i, (w, x) in enumerate(goals)
            ]
        },
    )
    assert out["score"] == t
    assert out["confirmed"] is False and out["advisory"] == "formula not from the fact sheet"
    assert rule_set("scores")["SCORE-GAS"].confirmed is False


def test_gas_at_most_five_goals() -> None:
    goals = [{"goal": f"g{i}", "weight": 1, "level": 0} for i in range(6)]
    with pytest.raises(InputError):
        q("gas", {"goals": goals})


# ---- schedule --------------------------------------------------------------------------------------


def schedule(**kw: Any) -> Any:
    doc = {"indication": "cervical_dystonia", "as_of": "2026-05-01", "sessions": [], "entries": []}
    doc.update(kw)
    return contract.run("scale-schedule", doc)


def test_schedule_without_sessions_asks_for_the_baseline() -> None:
    out = schedule()
    assert out["due"] == ["tsui", "twstrs"]
    assert {s["cycle"] for s in out["slots"]} == {1}
    assert out["patient_reported"] == {"twstrs": ["disability", "pain"]}
    assert out["confirmed"] is False


def test_schedule_statuses_per_cycle() -> None:
    out = schedule(
        as_of="2026-02-10",
        sessions=["2026-01-10"],
        entries=[{"instrument": "twstrs", "date": "2026-01-05"}],
    )
    by = {(s["cycle"], s["kind"], s["instrument"]): s for s in out["slots"]}
    assert by[(1, "before", "twstrs")]["status"] == "done"
    assert by[(1, "before", "twstrs")]["done_on"] == "2026-01-05"
    assert by[(1, "before", "tsui")]["status"] == "missed"
    assert by[(1, "review", "twstrs")]["status"] == "due"  # 31 days after, in 28-42
    assert by[(2, "before", "twstrs")]["status"] == "upcoming"
    assert by[(2, "before", "twstrs")]["anchor"] == "2026-04-04"  # 84 days on
    out = schedule(as_of="2026-01-20", sessions=["2026-01-10"])
    assert {s["status"] for s in out["slots"] if s["kind"] == "review"} == {"upcoming"}
    out = schedule(as_of="2026-06-01", sessions=["2026-01-10"])
    late = [s for s in out["slots"] if s["cycle"] == 2]
    assert {s["status"] for s in late} == {"overdue"}
    assert out["due"] == ["tsui", "twstrs"]


def test_schedule_of_other_indications() -> None:
    assert schedule(indication="blepharospasm")["instruments"] == ["jankovic", "bdi"]
    assert schedule(indication="upper_limb_spasticity")["instruments"] == ["mas", "gas"]
    assert schedule(indication="facial_pain")["patient_reported"] == {"pain_nrs": []}
    with pytest.raises(InputError):
        schedule(indication="chronic_migraine")


def test_add_months_clamps_the_day() -> None:
    assert scales.add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert scales.add_months(date(2026, 1, 15), 2) == date(2026, 3, 15)


# ---- review -------------------------------------------------------------------------------------


def entry(d: str, instrument: str, answers: dict[str, Any]) -> dict[str, Any]:
    return {"date": d, "questionnaire": {"instrument": instrument, "answers": answers}}


def review(**kw: Any) -> Any:
    doc = {
        "indication": "cervical_dystonia",
        "as_of": "2026-07-01",
        "sessions": [{"date": "2026-01-10"}, {"date": "2026-04-05"}],
        "entries": [],
    }
    doc.update(kw)
    return contract.run("cycle-review", doc)


def test_review_changes_from_baseline_per_cycle_and_subscale() -> None:
    out = review(
        sessions=[
            {"date": "2026-01-10", "wearing_off": "2026-03-20"},
            {"date": "2026-04-05", "adverse_effects": ["neck_pain"]},
        ],
        entries=[
            entry("2026-01-05", "twstrs", {"severity": 20, "disability": 15, "pain": 10}),
            entry("2026-02-15", "twstrs", {"severity": 15, "disability": 12, "pain": 8}),
            # outside the review window, before the next session: the fallback
            entry("2026-03-30", "twstrs", {"severity": 18, "disability": 14, "pain": 9}),
            entry("2026-05-10", "twstrs", {"disability": 10, "pain": 6}),
            entry(
                "2026-01-05",
                "tsui",
                {
                    "rotation": 2,
                    "tilt": 1,
                    "antero_retrocollis": 0,
                    "duration": 2,
                    "shoulder_elevation": 1,
                    "tremor": 1,
                },
            ),
        ],
    )
    rows = {(r["instrument"], r["measure"]): r for r in out["measures"]}
    assert [m["measure"] for m in out["measures"] if m["instrument"] == "twstrs"][0] == "score"
    total = rows[("twstrs", "score")]
    assert total["baseline"] == {"date": "2026-01-05", "value": 45.0}
    assert [c["change"] for c in total["cycles"]] == [-10.0, None]
    assert [c["change"] for c in rows[("twstrs", "pain")]["cycles"]] == [-2.0, -4.0]
    assert rows[("tsui", "score")]["baseline"]["value"] == 8.0
    assert rows[("tsui", "score")]["cycles"][0]["value"] is None
    assert out["cycles"][0]["effect_days"] == 69 and out["cycles"][0]["effect_weeks"] == 9.9
    assert out["cycles"][1]["effect_days"] is None
    assert out["cycles"][1]["adverse_effects"] == ["neck_pain"]
    assert out["review_due"] is True and out["suggestions"] == []


def test_review_fallback_value_and_no_baseline() -> None:
    out = review(
        sessions=[{"date": "2026-01-10"}],
        entries=[entry("2026-03-01", "pain_nrs", {"score": 4})],
        indication="facial_pain",
    )
    row = out["measures"][0]
    assert row["baseline"] is None and row["cycles"][0]["value"] == 4.0
    assert row["cycles"][0]["change"] is None and out["review_due"] is False


def test_review_mas_per_muscle_and_gas_advisory() -> None:
    out = review(
        indication="upper_limb_spasticity",
        sessions=[{"date": "2026-01-10"}],
        entries=[
            entry(
                "2026-01-10",
                "mas",
                {"entries": [{"muscle": "elbow_flexors", "side": "left", "grade": "3"}]},
            ),
            entry(
                "2026-02-20",
                "mas",
                {"entries": [{"muscle": "elbow_flexors", "side": "left", "grade": "1+"}]},
            ),
            entry("2026-01-10", "gas", {"goals": [{"goal": "dress", "weight": 1, "level": -2}]}),
        ],
    )
    rows = {(r["instrument"], r["measure"]): r for r in out["measures"]}
    assert rows[("mas", "elbow_flexors:left")]["cycles"][0]["change"] == -2.0
    assert rows[("gas", "score")]["advisory"] is True


def test_review_without_sessions_and_bad_dates() -> None:
    out = review(
        sessions=[], entries=[entry("2026-01-05", "pain_nrs", {"score": 3})], indication="other"
    )
    assert out["suggestions"] == [] and out["cycles"] == []
    with pytest.raises(InputError) as exc:
        review(sessions=[{"date": "2026-01-10", "wearing_off": "2026-01-01"}])
    assert "sessions.0.wearing_off" in exc.value.errors
    with pytest.raises(InputError):
        review(entries=[entry("2026-08-01", "pain_nrs", {"score": 3})])


# ---- suggestions -------------------------------------------------------------------------------


def inj(muscle: str, side: str, sites: int, units: float) -> dict[str, Any]:
    return {"muscle": muscle, "side": side, "sites": sites, "units": units}


SCM = "sternocleidomastoid"


@pytest.mark.parametrize(
    ("injections", "lines", "note"),
    [
        (
            [inj(SCM, "left", 2, 60), inj(SCM, "right", 2, 60)],
            [(SCM, "left", 2, 50.0), (SCM, "right", 2, 50.0)],
            "100 U or less",
        ),
        (
            [inj(SCM, "left", 2, 40), inj(SCM, "right", 1, 25)],
            [(SCM, "right", 0, 0.0)],
            "Leave out the right side",
        ),
        ([inj(SCM, "left", 2, 40), inj(SCM, "right", 2, 40)], [], "Choose the side"),
        (
            [inj(SCM, "left", 2, 40), inj("splenius_capitis", "right", 2, 60)],
            [],
            "Consider a lower",
        ),
    ],
)
def test_dysphagia_after_cervical_dystonia(injections: Any, lines: Any, note: Any) -> None:
    out = review(
        sessions=[{"date": "2026-01-10"}, {"date": "2026-04-05", "adverse_effects": ["dysphagia"]}],
        injections=injections,
    )
    (s,) = out["suggestions"]
    assert s["rule_id"] == "SUGGEST-CD-DYSPHAGIA-SCM" and s["source"] == ["S24b"]
    assert s["confirmed"] is True and s["advisory"] is False
    assert [(a["muscle"], a["side"], a["sites"], a["units"]) for a in s["adjustments"]] == lines
    assert note in s["note"]


PERI = [
    inj("orbicularis_oculi_pretarsal_upper_medial", "left", 1, 2.5),
    inj("orbicularis_oculi_pretarsal_upper_lateral", "left", 1, 5),
    inj("orbicularis_oculi_pretarsal_lower_lateral", "left", 1, 1.25),
]


def bleph(**kw: Any) -> Any:
    return review(indication="blepharospasm", injections=PERI, **kw)


def test_short_effect_after_blepharospasm_doubles_up_to_5_per_site() -> None:
    out = bleph(sessions=[{"date": "2026-04-05", "wearing_off": "2026-06-05"}])
    (s,) = out["suggestions"]
    assert s["rule_id"] == "SUGGEST-BLEPH-SHORT-EFFECT"
    assert [(a["muscle"], a["units"]) for a in s["adjustments"]] == [
        ("orbicularis_oculi_pretarsal_upper_medial", 5.0),
        ("orbicularis_oculi_pretarsal_lower_lateral", 2.5),
    ]
    assert "61 days" in s["reason"]
    assert (
        bleph(sessions=[{"date": "2026-04-05", "wearing_off": "2026-06-06"}])["suggestions"] == []
    )
    assert bleph(sessions=[{"date": "2026-04-05"}])["suggestions"] == []
    full = review(
        indication="blepharospasm",
        injections=[inj("orbicularis_oculi_pretarsal_upper_medial", "left", 1, 5)],
        sessions=[{"date": "2026-04-05", "wearing_off": "2026-05-05"}],
    )
    assert full["suggestions"][0]["adjustments"] == []
    assert "little" in full["suggestions"][0]["note"]


def test_small_jankovic_change_and_ptosis_after_blepharospasm() -> None:
    entries = [
        entry("2026-04-01", "jankovic", {"severity": 3, "frequency": 3}),
        entry("2026-05-10", "jankovic", {"severity": 3, "frequency": 2}),
    ]
    out = bleph(sessions=[{"date": "2026-04-05", "adverse_effects": ["ptosis"]}], entries=entries)
    assert [s["rule_id"] for s in out["suggestions"]] == [
        "SUGGEST-BLEPH-SMALL-CHANGE",
        "SUGGEST-BLEPH-PTOSIS",
    ]
    assert "-1 points" in out["suggestions"][0]["reason"]
    entries[1] = entry("2026-05-10", "jankovic", {"severity": 2, "frequency": 2})
    assert bleph(sessions=[{"date": "2026-04-05"}], entries=entries)["suggestions"] == []
    assert bleph(sessions=[{"date": "2026-04-05"}])["suggestions"] == []


def test_ptosis_after_migraine_is_advisory() -> None:
    out = review(
        indication="chronic_migraine",
        sessions=[{"date": "2026-04-05", "adverse_effects": ["ptosis"]}],
        injections=[inj("frontalis", "left", 2, 10), inj("frontalis", "right", 2, 10)],
    )
    (s,) = out["suggestions"]
    assert s["rule_id"] == "SUGGEST-CM-PTOSIS-FRONTALIS"
    assert s["advisory"] is True and s["confirmed"] is False and "20 U" in s["reason"]
    assert (
        review(indication="chronic_migraine", sessions=[{"date": "2026-04-05"}])["suggestions"]
        == []
    )


def test_adverse_effects_alone_drive_suggestions_for_these_indications() -> None:
    found = scales.effect_suggestion_indications()
    # Chronic migraine has no outcome scale, yet a drooping eyelid suggests a frontalis review.
    assert "chronic_migraine" in found and "chronic_migraine" not in scales.indications()
    assert {"cervical_dystonia", "blepharospasm"} <= set(found)
    assert "upper_limb_spasticity" not in found
