"""A child's weight counts for the per-kg limits only when recent (issue 10 item 4).

Program policy POLICY-PEDS-WEIGHT-MAX-AGE (90 days, from the issue, not a clinical fact): a weight
measured more than that before the session, like no weight, leaves the per-kg limits unchecked,
so BTX-PEDS-WEIGHT-REQUIRED (S17, S18, S19) blocks. An adult's weight plays no part.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clinic_rules.contract import run
from clinic_rules.data import rule

DAY = date(2026, 6, 15)
MAX_AGE = rule("POLICY-PEDS-WEIGHT-MAX-AGE").int_("default")
LEG = rule("BTX-PEDS-LLS-8UKG-300")


def document(
    years: int, weight: float | None, measured_days_before: int | None, units: float
) -> dict[str, Any]:
    patient: dict[str, Any] = {"birth_date": DAY.replace(year=DAY.year - years).isoformat()}
    if weight is not None:
        patient["weight_kg"] = weight
    if measured_days_before is not None:
        patient["weight_measured_on"] = (DAY - timedelta(days=measured_days_before)).isoformat()
    return {
        "as_of": DAY.isoformat(),
        "patient": patient,
        "history": [],
        "session": {
            "date": DAY.isoformat(),
            "product": "onabotulinumtoxinA",
            "injections": [
                {
                    "indication": "lower_limb_spasticity",
                    "muscle": "soleus",
                    "side": "left",
                    "sites": 2,
                    "units": units,
                }
            ],
        },
    }


def rule_ids(doc: dict[str, Any]) -> set[str]:
    result: Any = run("dose-check", doc)
    return {f["rule_id"] for f in result["findings"] if f["severity"] == "block"}


def test_the_policy_is_ninety_days_and_never_blocks_on_its_own() -> None:
    r = rule("POLICY-PEDS-WEIGHT-MAX-AGE")
    assert MAX_AGE == 90 and not r.confirmed and r.kind == "policy"


@pytest.mark.parametrize(
    "days,blocked",
    [(0, False), (MAX_AGE - 1, False), (MAX_AGE, False), (MAX_AGE + 1, True), (400, True)],
)
def test_a_weight_counts_up_to_the_limit_and_not_after(days: int, blocked: bool) -> None:
    ids = rule_ids(document(8, 20, days, 100))
    assert ("BTX-PEDS-WEIGHT-REQUIRED" in ids) == blocked


def test_no_weight_blocks_and_the_message_names_an_old_weight() -> None:
    assert "BTX-PEDS-WEIGHT-REQUIRED" in rule_ids(document(8, None, None, 100))
    result: Any = run("dose-check", document(8, 20, MAX_AGE + 10, 100))
    (finding,) = [f for f in result["findings"] if f["rule_id"] == "BTX-PEDS-WEIGHT-REQUIRED"]
    assert "more than 90 days before the session" in finding["message"]


def test_a_current_weight_sets_the_per_kg_limb_limit() -> None:
    per_kg = LEG.num("units_per_kg")
    assert rule_ids(document(8, 20, 10, 20 * per_kg)) == set()
    assert LEG.id in rule_ids(document(8, 20, 10, 20 * per_kg + 1))


def test_an_old_weight_does_not_count_so_the_per_kg_limit_is_not_applied_from_it() -> None:
    ids = rule_ids(document(8, 20, MAX_AGE + 1, 20 * LEG.num("units_per_kg") + 1))
    assert "BTX-PEDS-WEIGHT-REQUIRED" in ids and LEG.id not in ids


def test_an_adults_old_weight_plays_no_part() -> None:
    assert "BTX-PEDS-WEIGHT-REQUIRED" not in rule_ids(document(30, 70, 800, 300))
