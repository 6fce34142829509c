"""System check: the clinic_rules data loads (bontrack.E005)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register


@register()
def check_rule_data(app_configs: Any, **kwargs: Any) -> list[Any]:
    try:
        from bontrack.rules.facts import contract

        contract.list_rules()
        contract.vocabulary()
    except Exception as exc:  # noqa: BLE001 - any failure to load the rule data is the finding
        return [Error(f"The clinic_rules data does not load: {exc}", id="bontrack.E005")]
    return []
