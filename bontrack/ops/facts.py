"""ops' door to clinic_rules: the demo generator takes doses, dilutions, intervals and
questionnaire scores from the rule data, never from numbers of its own."""

from __future__ import annotations

from clinic_rules import contract, retreatment_interval
from clinic_rules.data import rule

__all__ = ["contract", "retreatment_interval", "rule"]
