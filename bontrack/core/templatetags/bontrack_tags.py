from __future__ import annotations

from django import template

from bontrack.core import facts

register = template.Library()

SEVERITY_LABELS = {"block": "Stop", "warn": "Warning", "info": "Note"}


@register.filter
def codelabel(value: object) -> str:
    """`too_early` -> `Too early`: show a machine code (rule outcome, finding code) as words."""
    text = str(value or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def severity_word(value: object) -> str:
    """A finding's severity as a clinician reads it: `block` -> `Stop`, `warn` -> `Warning`."""
    return SEVERITY_LABELS.get(str(value), codelabel(value))


@register.filter
def rule_description(rule_id: object) -> str:
    """The rule's description for the "Why?" disclosure under a finding."""
    return facts.rule_description(str(rule_id or ""))
