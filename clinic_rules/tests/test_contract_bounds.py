"""The contract's clinical bounds come from the rule data, not from numbers typed again."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from clinic_rules import contract
from clinic_rules.contract import InputError, run
from clinic_rules.data import Rule, parse_rule_set, rule
from clinic_rules.fields import Choice, F, Int, IntChoice, Obj, Word


def _field(obj: Obj[Any], name: str) -> Any:
    f = obj.fields[name]
    assert isinstance(f, F)
    return f


def _max(obj: Obj[Any], name: str) -> float | None:
    spec = _field(obj, name).spec
    assert isinstance(spec, Int)
    assert spec.num.minimum == 0
    return spec.num.maximum


def _modified(file: str, old: str, new: str, rule_id: str) -> Rule:
    text = (resources.files("clinic_rules") / "data" / file).read_text("utf-8")
    assert old in text
    return parse_rule_set(text.replace(old, new, 1))[rule_id]


def test_policy_knobs_take_their_allowed_values_and_defaults_from_policy_rules() -> None:
    window = rule("POLICY-CUMULATIVE-WINDOW")
    spec = _field(contract.POLICY, "window_days").spec
    assert isinstance(spec, IntChoice)
    assert spec.allowed == (84, 90)
    assert spec.allowed == tuple(int(v) for v in window.nums("allowed"))
    assert _field(contract.POLICY, "window_days").doc.endswith(f"default {window.int_('default')}")
    period = rule("POLICY-PERIOD-DAYS")
    assert contract.PERIOD_DAYS.allowed == tuple(int(v) for v in period.nums("allowed"))
    for obj in (contract.DIARY, contract.ELIGIBILITY):
        assert _field(obj, "period_days").default == period.int_("default") == 30
    for knob, rule_id in (
        ("early_cm_retreatment", "POLICY-CM-EARLY-RETREATMENT"),
        ("response_rule_set", "POLICY-RESPONSE-RULE-SET"),
        ("bilateral_billing", "POLICY-BILATERAL-BILLING"),
    ):
        choice = _field(contract.POLICY, knob).spec
        assert isinstance(choice, Choice)
        assert tuple(choice.members) == rule(rule_id).strs("allowed")
    failed = rule("POLICY-FAILED-PREVENTIVE-CLASSES")
    assert _field(contract.POLICY, "failed_preventive_classes_required").doc == (
        f"default {failed.int_('default')} (NICE, S1)"
    )


def test_questionnaire_ranges_are_the_score_rules_params() -> None:
    answers = contract._ANSWERS
    midas = rule("SCORE-MIDAS")
    q_items = [k for k in answers["midas"].fields if k.startswith("q")]
    assert len(q_items) == midas.int_("questions")
    for name in (*q_items, "a"):
        assert _max(answers["midas"], name) == midas.int_("max_days") == 92
    assert _max(answers["midas"], "b") == midas.int_("pain_max") == 10
    hit6 = rule("SCORE-HIT6")
    assert tuple(answers["hit6"].fields) == hit6.strs("items")
    for item in hit6.strs("items"):
        word = _field(answers["hit6"], item).spec
        assert isinstance(word, Word)
        assert word.ordered == tuple(hit6.table("points"))
    assert contract.HIT6_TOTAL == (36, 78)
    jankovic = rule("SCORE-JANKOVIC")
    assert _max(answers["jankovic"], "severity") == jankovic.int_("severity_max")
    assert _max(answers["jankovic"], "frequency") == jankovic.int_("frequency_max")
    tsui = rule("SCORE-TSUI")
    for name in answers["tsui"].fields:
        assert _max(answers["tsui"], name) == tsui.int_("total_max")
    twstrs = rule("SCORE-TWSTRS")
    assert _max(answers["twstrs"], "severity") == twstrs.int_("severity_max") == 35
    assert _max(answers["twstrs"], "disability") == twstrs.int_("disability_max_alternative")
    assert _max(answers["twstrs"], "pain") == twstrs.int_("pain_max") == 20
    items = rule("SCORE-TWSTRS-DISABILITY-ITEMS")
    for item in items.strs("items"):
        assert _max(_field(answers["twstrs"], "disability_items").spec, item) == items.int_(
            "item_max"
        )
    mas = _field(_field(answers["mas"], "entries").spec.item, "grade").spec
    assert isinstance(mas, Word)
    assert mas.ordered == tuple(rule("SCORE-MAS").table("grades"))
    assert _max(answers["pain_nrs"], "score") == rule("SCORE-PAIN-NRS").int_("max")
    assert _max(answers["bdi"], "driving") == rule("SCORE-BDI").int_("item_max")


def test_changing_the_data_changes_the_bound() -> None:
    window = _modified(
        "policy.v1.toml", "allowed = [84, 90]", "allowed = [84, 90, 91]", "POLICY-CUMULATIVE-WINDOW"
    )
    assert contract._allowed_ints(window).allowed == (84, 90, 91)
    period = _modified(
        "policy.v1.toml",
        "default = 30, allowed = [28, 30]",
        "default = 30, allowed = [30]",
        "POLICY-PERIOD-DAYS",
    )
    assert contract._allowed_ints(period).allowed == (30,)
    assert contract._default_doc(period) == "default 30"
    midas = _modified("scores.v1.toml", "pain_max = 10", "pain_max = 11", "SCORE-MIDAS")
    assert contract._upto(midas, "pain_max").num.maximum == 11
    twstrs = _modified(
        "scores.v1.toml",
        "disability_max_alternative = 32",
        "disability_max_alternative = 29",
        "SCORE-TWSTRS",
    )
    assert contract._upto(twstrs, "disability_max", "disability_max_alternative").num.maximum == 30
    hit6 = _modified("scores.v1.toml", "always = 13", "always = 14", "SCORE-HIT6")
    assert contract.hit6_total_range(hit6) == (36, 84)


@pytest.mark.parametrize(
    ("instrument", "answers", "path"),
    [
        ("midas", {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 0, "b": 11}, "answers.b"),
        ("twstrs", {"severity": 0, "disability": 33, "pain": 0}, "answers.disability"),
        ("jankovic", {"severity": 5, "frequency": 0}, "answers.severity"),
    ],
)
def test_one_above_the_data_bound_is_rejected(
    instrument: str, answers: dict[str, int], path: str
) -> None:
    with pytest.raises(InputError) as exc:
        run("questionnaire", {"instrument": instrument, "answers": answers})
    assert path in exc.value.errors


def test_hit6_total_message_names_the_derived_range() -> None:
    low, high = contract.HIT6_TOTAL
    doc = {
        "as_of": "2026-06-01",
        "sessions": [{"date": "2026-03-01", "indication": "chronic_migraine"}],
        "days": [],
        "scores": [{"date": "2026-03-01", "instrument": "hit6", "score": high + 1}],
    }
    with pytest.raises(InputError) as exc:
        run("response", doc)
    assert exc.value.errors["scores.0.score"] == [f"HIT-6 total must be {low}-{high}"]
