from __future__ import annotations

from typing import Any

from django import template

from bontrack.patients.choices import ContactChannel
from bontrack.treatments import facts, maps

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, []) if mapping else []


@register.filter
def muscle_label(code: str) -> str:
    return facts.muscle_labels().get(code, code)


@register.filter
def indication_label(code: str) -> str:
    """`chronic_migraine` -> `Chronic migraine`; an unknown code in words."""
    label = facts.indication_label(code)
    return label if label != code else str(code).replace("_", " ").capitalize()


@register.filter
def contact_channel(code: str) -> str:
    """`sms` -> `text message`: a patient's preferred contact as the chart words it."""
    labels = dict(ContactChannel.choices)
    return str(labels.get(code, code)).lower()


@register.filter
def off_label(session: Any) -> bool:
    """Whether a session (or plan) treats an indication the label does not cover (a
    clinic-defined protocol: facial pain and other conditions)."""
    codes = getattr(session, "indications", None) or [getattr(session, "indication", "")]
    return any(facts.is_off_label(c) for c in codes)


@register.filter
def site_side(injection: Any) -> str:
    """A charted site's side in words: "Right arm" for an arm muscle, "Left" for a neck one."""
    return maps.side_words(injection.indication, injection.side).capitalize()
