from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateformat import format as date_format

from bontrack.core import facts
from bontrack.core.timezones import clinic_zone, local

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


@register.simple_tag
def clinic_time(
    value: object, clinic: object, fmt: str = "Y-m-d H:i", with_zone: bool = False
) -> str:
    """`value` (an aware datetime) in `clinic`'s time zone, formatted with `fmt` (the `date`
    filter's format), followed by the zone's abbreviation (EST, PDT...) when `with_zone`.
    For lists whose rows belong to clinics in different zones (core/timezones.py)."""
    if not isinstance(value, datetime) or clinic is None:
        return ""
    at = local(value, clinic_zone(clinic))
    assert at is not None
    text = date_format(at, fmt)
    return f"{text} {at.tzname()}" if with_zone else text
