"""Minimum re-treatment intervals by indication (clinical-facts §1.8 and §7)."""

from __future__ import annotations

from .data import Rule, rule_set
from .model import SPASTICITY, Indication

_BY_INDICATION = {
    Indication.CHRONIC_MIGRAINE: "BTX-CM-RETREAT-84",
    Indication.BLEPHAROSPASM: "BTX-BLEPH-TOLERANCE-90",
    Indication.CERVICAL_DYSTONIA: "BTX-CD-RETREAT-70",
    Indication.FACIAL_PAIN: "BTX-CLASS-RETREAT-84",
}


def retreatment_rule(indication: Indication, *, pediatric: bool) -> Rule:
    """The rule giving the minimum interval between two sessions of one indication."""
    if indication in SPASTICITY:
        rule_id = "BTX-SPAS-PEDS-RETREAT-84" if pediatric else "BTX-SPAS-ADULT-RETREAT-84"
    else:
        rule_id = _BY_INDICATION[indication]
    return rule_set("botox-us")[rule_id]


def retreatment_interval(indication: str, *, pediatric: bool = False) -> dict[str, object]:
    """`{indication, rule_id, min_days, severity, confirmed, source, description}` for one indication.

    Raises ``KeyError`` for an unknown indication code.
    """
    try:
        code = Indication(indication)
    except ValueError:
        raise KeyError(f"unknown indication {indication!r}") from None
    r = retreatment_rule(code, pediatric=pediatric)
    return {
        "indication": indication,
        "rule_id": r.id,
        "min_days": r.int_("min_days"),
        "severity": r.severity.value if r.severity else None,
        "confirmed": r.confirmed,
        "source": r.source_text,
        "description": r.description,
    }
