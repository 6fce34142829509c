"""The rules' own words for the staff UI: a rule's description by its ID (the "Why?" disclosure
under a finding). The one door from core's templates to ``clinic_rules``."""

from __future__ import annotations

from clinic_rules.data import rule


def rule_description(rule_id: str) -> str:
    """The rule's one-line description; empty for an ID the rule sets no longer hold."""
    try:
        return rule(rule_id).description
    except KeyError:
        return ""
