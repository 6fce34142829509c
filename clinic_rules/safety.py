"""``adverse-effect-triage``: which reported symptoms are the boxed warning's distant spread of
toxin effect (trouble swallowing, speaking or breathing; generalized weakness: BTX-SPREAD-URGENT-
SYMPTOMS, fact sheet S27b). Any of them makes the report urgent: urgent advice at once and a
same-day physician review."""

from __future__ import annotations

from collections.abc import Sequence

from .data import rule, rule_set

RULE_ID = "BTX-SPREAD-URGENT-SYMPTOMS"


def urgent_symptoms() -> tuple[str, ...]:
    """The symptom codes the label warns about, in the data's order."""
    return rule(RULE_ID).strs("symptoms")


def triage(symptoms: Sequence[str]) -> dict[str, object]:
    warned = urgent_symptoms()
    urgent = [s for s in warned if s in set(symptoms)]
    r = rule(RULE_ID)
    return {
        "rule_set": rule_set("botox-us").label,
        "urgent": bool(urgent),
        "urgent_symptoms": urgent,
        "rule_id": r.id,
        "source": list(r.source),
        "confirmed": r.confirmed,
        "findings": [],
    }
