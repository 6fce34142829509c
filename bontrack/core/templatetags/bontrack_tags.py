from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def codelabel(value: object) -> str:
    """`too_early` -> `Too early`: show a machine code (rule outcome, finding code) as words."""
    text = str(value or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]
