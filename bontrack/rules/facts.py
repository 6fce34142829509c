"""The rules app's door to clinic_rules: its JSON contract (`bontrack rules`, /api/v1/rules)."""

from __future__ import annotations

from clinic_rules import contract

__all__ = ["contract"]
