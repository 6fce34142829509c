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

from bontrack.core.models import Practice, ProgramPolicy
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
        "off_label_age",
        "off_label_age",
        "POLICY-OFF-LABEL-AGE",
        "Treatment outside a labelled age (off-label)",
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


def policy_document(practice: Practice | int) -> dict[str, object]:
    """The practice's policy knobs in clinic_rules' ``policy`` shape (only those it has set)."""
    practice_id = practice if isinstance(practice, int) else practice.pk
    p = ProgramPolicy.objects.filter(practice_id=practice_id).first()
    return {} if p is None else policy_document_of(p)


def policy_document_of(p: ProgramPolicy) -> dict[str, object]:
    doc: dict[str, object] = {}
    if p.failed_preventive_classes_required is not None:
        doc["failed_preventive_classes_required"] = p.failed_preventive_classes_required
    if p.response_rule_set:
        doc["response_rule_set"] = p.response_rule_set
    if p.cumulative_window_days is not None:
        doc["window_days"] = p.cumulative_window_days
    if p.early_retreatment:
        doc["early_cm_retreatment"] = p.early_retreatment
    if p.off_label_age:
        doc["off_label_age"] = p.off_label_age
    if p.require_4h_for_headache_day is not None:
        doc["require_4h_for_headache_day"] = p.require_4h_for_headache_day
    if p.count_probable_as_migraine is not None:
        doc["count_probable_as_migraine"] = p.count_probable_as_migraine
    if p.min_diary_completeness is not None:
        doc["min_diary_completeness"] = float(p.min_diary_completeness)
    if p.bilateral_billing:
        doc["bilateral_billing"] = p.bilateral_billing
    return doc


def effective_policy(practice: Practice | int) -> dict[str, object]:
    """Every knob with the practice's value or clinic_rules' documented default."""
    from clinic_rules.data import default_policy

    base = default_policy()
    doc = policy_document(practice)
    return {
        "failed_preventive_classes_required": doc.get(
            "failed_preventive_classes_required", base.failed_preventive_classes_required
        ),
        "response_rule_set": doc.get("response_rule_set", base.response_rule_set.value),
        "window_days": doc.get("window_days", base.window_days),
        "early_cm_retreatment": doc.get("early_cm_retreatment", base.early_cm_retreatment.value),
        "off_label_age": doc.get("off_label_age", base.off_label_age.value),
        "require_4h_for_headache_day": doc.get(
            "require_4h_for_headache_day", base.require_4h_for_headache_day
        ),
        "count_probable_as_migraine": doc.get(
            "count_probable_as_migraine", base.count_probable_as_migraine
        ),
        "min_diary_completeness": doc.get("min_diary_completeness", base.min_diary_completeness),
        "bilateral_billing": doc.get("bilateral_billing", base.bilateral_billing.value),
    }
