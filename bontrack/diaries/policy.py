"""The practice's program policy knobs as clinic_rules defines them (no value typed here).

Allowed values, bounds and defaults come from clinic_rules: the ``policy`` object of the
``diary-summary`` input schema (``contract.list_rules()``) and the ``policy`` rule data
(descriptions and defaults, ``clinic_rules/data/policy.v1.toml``). ``ProgramPolicy`` stores
the knobs under its own field names; ``KNOBS`` maps them to clinic_rules' names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from clinic_rules import contract


@dataclass(frozen=True)
class Knob:
    field: str  # ProgramPolicy field
    key: str  # clinic_rules policy key
    rule_id: str  # the policy.v1.toml entry (description)
    label: str


KNOBS = [
    Knob(
        "failed_preventive_classes_required",
        "failed_preventive_classes_required",
        "POLICY-FAILED-PREVENTIVE-CLASSES",
        "Failed preventive drug classes required",
    ),
    Knob(
        "response_rule_set",
        "response_rule_set",
        "POLICY-RESPONSE-RULE-SET",
        "Continuation (response) rule set",
    ),
    Knob(
        "cumulative_window_days",
        "window_days",
        "POLICY-CUMULATIVE-WINDOW",
        "Cumulative dose window (days)",
    ),
    Knob(
        "early_retreatment",
        "early_cm_retreatment",
        "POLICY-CM-EARLY-RETREATMENT",
        "Early chronic-migraine re-treatment",
    ),
    Knob(
        "require_4h_for_headache_day",
        "require_4h_for_headache_day",
        "POLICY-REQUIRE-4H-HEADACHE-DAY",
        "Minimum headache duration for eligibility",
    ),
    Knob(
        "count_probable_as_migraine",
        "count_probable_as_migraine",
        "POLICY-COUNT-PROBABLE-MIGRAINE",
        "Probable migraine counts as migraine",
    ),
    Knob(
        "min_diary_completeness",
        "min_diary_completeness",
        "POLICY-DIARY-COMPLETENESS",
        "Minimum diary completeness per period",
    ),
    Knob(
        "bilateral_billing",
        "bilateral_billing",
        "POLICY-BILATERAL-BILLING",
        "Bilateral procedure billing",
    ),
]
BY_FIELD = {k.field: k for k in KNOBS}
BY_KEY = {k.key: k for k in KNOBS}
FIELDS = [k.field for k in KNOBS]

VALUE_LABELS = {
    "ahs": "AHS",
    "nice": "NICE",
    "ehf": "EHF",
    "warn": "Warning",
    "block": "Block",
    "modifier_50": "One line with modifier 50",
    "rt_lt": "RT and LT lines",
}


@functools.cache
def schema() -> dict[str, dict[str, Any]]:
    """clinic_rules' JSON schema of each policy knob (type, enum, minimum, maximum)."""
    rule = next(r for r in contract.list_rules() if r["name"] == "diary-summary")
    props = rule["input_schema"]["properties"]["policy"]["properties"]  # type: ignore[index]
    return {k: dict(v) for k, v in props.items()}


@functools.cache
def _rule_data() -> dict[str, tuple[str, Any]]:
    from clinic_rules.data import rule_set

    rules = rule_set("policy")
    out = {}
    for knob in KNOBS:
        r = rules[knob.rule_id]
        out[knob.field] = (r.description, r.params.get("default"))
    return out


def description(field: str) -> str:
    return _rule_data()[field][0]


def default(field: str) -> Any:
    return _rule_data()[field][1]


def value_label(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return VALUE_LABELS.get(str(value), str(value))
