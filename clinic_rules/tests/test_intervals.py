"""Minimum re-treatment intervals, as a clinician would read them."""

from __future__ import annotations

import pytest

from clinic_rules import retreatment_interval

CASES = [
    # indication,              pediatric, rule,                        days, confirmed, severity
    ("chronic_migraine", False, "BTX-CM-RETREAT-84", 84, True, "warn"),
    ("upper_limb_spasticity", False, "BTX-SPAS-ADULT-RETREAT-84", 84, True, "warn"),
    ("lower_limb_spasticity", True, "BTX-SPAS-PEDS-RETREAT-84", 84, True, "warn"),
    ("blepharospasm", False, "BTX-BLEPH-TOLERANCE-90", 90, True, "warn"),
    ("cervical_dystonia", False, "BTX-CD-RETREAT-70", 70, False, "info"),
]


@pytest.mark.parametrize("indication,pediatric,rule_id,days,confirmed,severity", CASES)
def test_each_indication_has_its_interval(
    indication: str, pediatric: bool, rule_id: str, days: int, confirmed: bool, severity: str
) -> None:
    got = retreatment_interval(indication, pediatric=pediatric)
    assert (got["rule_id"], got["min_days"], got["confirmed"], got["severity"]) == (
        rule_id,
        days,
        confirmed,
        severity,
    )
    assert got["source"] and got["description"]


def test_an_unknown_indication_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        retreatment_interval("hiccups")
