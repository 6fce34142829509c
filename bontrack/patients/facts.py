"""The patients app's clinical numbers, read from clinic_rules (the only module here that does)."""

from __future__ import annotations

from clinic_rules.data import rule


def adult_age() -> int:
    """Patients younger than this follow the pediatric rules (BTX-PEDIATRIC-AGE: S15, S29d, S19)."""
    return rule("BTX-PEDIATRIC-AGE").int_("adult_age")


def is_pediatric(age: int) -> bool:
    return age < adult_age()
