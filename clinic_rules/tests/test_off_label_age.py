"""Property tests for off-label age (issue 14 item 3, clinical facts §8).

Treatment outside a labelled age is off-label, legal and common: a warning that only a physician
acknowledges, with a reason (``ack_by: "physician"``). The practice policy ``off_label_age`` may
raise it to a block. A labelled age never gets an age finding. A child (under 18) without a weight
is a different matter: the per-kg limits cannot be checked, so it blocks whatever the policy.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic_rules import run
from clinic_rules.data import rule

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = date(2024, 6, 1)
# Clinical facts §8 (the label's age gates): chronic migraine adults ≥18 (S15), cervical dystonia
# adults (S29c, S29d), pediatric spasticity 2–17 and adults 18+ (S19, S19c, S29d: so from 2 on),
# blepharospasm ≥12 (S29b, S29c). The engine reads them from its rule data; checked below.
MIN_AGE = {
    "chronic_migraine": 18,
    "cervical_dystonia": 18,
    "upper_limb_spasticity": 2,
    "lower_limb_spasticity": 2,
    "blepharospasm": 12,
}
AGE_RULE = {
    "chronic_migraine": "BTX-CM-AGE-18",
    "cervical_dystonia": "BTX-CD-AGE-18",
    "upper_limb_spasticity": "BTX-SPAS-PEDS-AGE-2",
    "lower_limb_spasticity": "BTX-SPAS-PEDS-AGE-2",
    "blepharospasm": "BTX-BLEPH-AGE-12",
}
ADULT_AGE = 18  # §1.5 / §8: under 18 follows the pediatric rules (BTX-PEDIATRIC-AGE)
# A small dose in a muscle of each indication: far below every dose limit for any weight drawn.
ROW = {
    "chronic_migraine": ("temporalis", "left", 5),
    "cervical_dystonia": ("splenius_capitis", "left", 5),
    "upper_limb_spasticity": ("pronator_teres", "left", 5),
    "lower_limb_spasticity": ("soleus", "left", 5),
    "blepharospasm": ("orbicularis_oculi_pretarsal_upper_medial", "left", 2.5),
}
POLICIES = st.sampled_from([None, "warn", "block"])


def test_the_labelled_ages_are_the_rule_data() -> None:
    for indication, rule_id in AGE_RULE.items():
        assert rule(rule_id).int_("min_age") == MIN_AGE[indication]
    assert rule("BTX-PEDIATRIC-AGE").int_("adult_age") == ADULT_AGE


def birth_for(years: int, extra_days: int) -> str:
    """A birth date making the patient ``years`` old on DAY, ``extra_days`` into that year."""
    birthday = DAY.replace(year=DAY.year - years)
    return (birthday - timedelta(days=extra_days)).isoformat()


def document(
    indication: str, birth: str, weight: float | None, policy: str | None
) -> dict[str, Any]:
    muscle, side, units = ROW[indication]
    patient: dict[str, Any] = {"birth_date": birth, "flags": []}
    if weight is not None:
        patient["weight_kg"] = weight
    doc: dict[str, Any] = {
        "as_of": DAY.isoformat(),
        "patient": patient,
        "history": [],
        "session": {
            "date": DAY.isoformat(),
            "product": "onabotulinumtoxinA",
            "injections": [
                {
                    "indication": indication,
                    "muscle": muscle,
                    "side": side,
                    "sites": 1,
                    "units": units,
                }
            ],
        },
    }
    if policy is not None:
        doc["policy"] = {"off_label_age": policy}
    return doc


def check(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of ``dose-check`` (the public contract) on ``doc``."""
    result: Any = run("dose-check", doc)
    return list(result["findings"])


def age_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["code"] == "age"]


@FAST
@given(
    indication=st.sampled_from(sorted(MIN_AGE)),
    data=st.data(),
    extra_days=st.integers(0, 364),
    weight=st.floats(3, 120).map(lambda w: round(w, 1)),
    policy=POLICIES,
)
def test_an_age_outside_the_label_warns_for_a_physician_by_default_and_blocks_under_the_knob(
    indication: str, data: st.DataObject, extra_days: int, weight: float, policy: str | None
) -> None:
    years = data.draw(st.integers(0, MIN_AGE[indication] - 1), label="years")
    result = check(document(indication, birth_for(years, extra_days), weight, policy))
    found = age_findings(result)
    assert [f["rule_id"] for f in found] == [AGE_RULE[indication]]
    (finding,) = found
    if policy == "block":
        assert finding["severity"] == "block"
        assert finding["ack_by"] is None  # a block needs a physician override instead
    else:
        assert finding["severity"] == "warn"
        assert finding["ack_by"] == "physician"
        # Off-label age alone never blocks: with a weight and a small dose, nothing blocks.
        assert not [f for f in result if f["severity"] == "block"]


@FAST
@given(
    indication=st.sampled_from(sorted(MIN_AGE)),
    data=st.data(),
    extra_days=st.integers(0, 364),
    weight=st.one_of(st.none(), st.floats(3, 120).map(lambda w: round(w, 1))),
    policy=POLICIES,
)
def test_a_labelled_age_never_gets_an_age_finding(
    indication: str, data: st.DataObject, extra_days: int, weight: float | None, policy: str | None
) -> None:
    years = data.draw(st.integers(MIN_AGE[indication], 100), label="years")
    result = check(document(indication, birth_for(years, extra_days), weight, policy))
    assert age_findings(result) == []


@FAST
@given(
    indication=st.sampled_from(sorted(MIN_AGE)),
    years=st.integers(0, ADULT_AGE - 1),
    extra_days=st.integers(0, 364),
    policy=POLICIES,
)
def test_a_child_without_a_weight_always_blocks(
    indication: str, years: int, extra_days: int, policy: str | None
) -> None:
    result = check(document(indication, birth_for(years, extra_days), None, policy))
    blocks = {f["rule_id"] for f in result if f["severity"] == "block"}
    assert "BTX-PEDS-WEIGHT-REQUIRED" in blocks
