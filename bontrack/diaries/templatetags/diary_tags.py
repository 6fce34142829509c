"""Diary display filters."""

from __future__ import annotations

from django import template

from bontrack.diaries.choices import Severity

register = template.Library()


@register.filter
def severity_label(value: object) -> str:
    """The diary severity scale as a word (``2`` -> ``moderate``); empty for none/unknown."""
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
    if n <= 0 or n not in Severity.values:
        return ""
    return str(Severity(n).label).lower()
