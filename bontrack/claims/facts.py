"""The claims app's door to clinic_rules: the ``billing-lines`` document of a session, its result,
the ICD-10-CM codes each indication accepts, and the labels and sentences the screens show.

Every code (CPT, HCPCS, modifier, ICD-10-CM) on a claim comes from ``billing-lines`` run here; the
claims app only distributes the J0585 units over the vials' NDCs and keeps what billing edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bontrack.core.policy.facts import policy_document
from bontrack.treatments import facts as treatment_facts
from clinic_rules import contract
from clinic_rules.data import rule
from clinic_rules.model import SPASTICITY, Indication

RULE_NAME = "billing-lines"
# The drug lines of billing-lines: the administered J0585 line (JZ when nothing is wasted) and
# the JW line for the discarded units; the claims app attaches each vial's NDC to these.
WASTE_RULE = "BILL-JW"
ICD_MATCH_RULE = "BILL-ICD10-MATCH"
DRUG_RULES = frozenset({"BILL-J0585", WASTE_RULE})
_LIMB = {
    (Indication.UPPER_LIMB_SPASTICITY, "left"): ("left_arm",),
    (Indication.UPPER_LIMB_SPASTICITY, "right"): ("right_arm",),
    (Indication.UPPER_LIMB_SPASTICITY, "bilateral"): ("left_arm", "right_arm"),
    (Indication.LOWER_LIMB_SPASTICITY, "left"): ("left_leg",),
    (Indication.LOWER_LIMB_SPASTICITY, "right"): ("right_leg",),
    (Indication.LOWER_LIMB_SPASTICITY, "bilateral"): ("left_leg", "right_leg"),
}


def indication_label(code: str) -> str:
    return str(treatment_facts.indication_label(code))


def supported_icd10(indication: str) -> frozenset[str]:
    """The ICD-10-CM codes that support an indication on a claim (BILL-ICD10-MATCH)."""
    codes = rule("BILL-ICD10-MATCH").table("codes").get(indication, [])
    return frozenset(str(c) for c in codes) if isinstance(codes, list) else frozenset()


def is_spasticity(indication: str) -> bool:
    return indication in {i.value for i in SPASTICITY}


def billing_injections(injections: Sequence[Any]) -> tuple[list[dict[str, object]], list[str]]:
    """Done injections as ``billing-lines`` injections (a spasticity site carries its limb, from
    the indication and side); sentences for sites that cannot be placed on a limb."""
    out: list[dict[str, object]] = []
    problems: list[str] = []
    for i in injections:
        if i.status != "done":
            continue
        doc: dict[str, object] = {"indication": i.indication, "muscle": i.muscle, "side": i.side}
        if is_spasticity(i.indication):
            limbs = _LIMB.get((Indication(i.indication), i.side))
            if not limbs:
                problems.append(
                    f"A {indication_label(i.indication).lower()} site in "
                    f"{treatment_facts.muscle_labels().get(i.muscle, i.muscle).lower()} has no "
                    "left or right side, so its limb cannot be billed: correct the chart."
                )
                continue
            for limb in limbs:
                out.append({**doc, "limb": limb, "side": "left" if "left" in limb else "right"})
        else:
            out.append(doc)
    return out, problems


def billing_document(
    *,
    service_date: date,
    injections: list[dict[str, object]],
    vial_sizes: Sequence[int],
    units_given: float,
    diagnoses: Sequence[str],
    guidance: str,
    practice_id: int,
) -> dict[str, object]:
    doc: dict[str, object] = {
        "session": {
            "date": service_date.isoformat(),
            "injections": injections,
            "guidance": guidance,
            "vials": [{"size_units": int(s)} for s in vial_sizes],
            "units_given": units_given,
        },
        "diagnoses": list(diagnoses)[:12],
    }
    policy = policy_document(practice_id)
    if policy:
        doc["policy"] = policy
    return doc


class BillingInputError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("billing-lines input error")
        self.errors = errors


def run_billing(doc: dict[str, object]) -> dict[str, Any]:
    try:
        return contract.run(RULE_NAME, doc)
    except contract.InputError as exc:
        raise BillingInputError(exc.errors) from exc


def muscle_label(code: str) -> str:
    return str(treatment_facts.muscle_labels().get(code, code))


def zone(name: str) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


_DESCRIPTIONS = {
    "64612": "Chemodenervation, facial nerve muscles, per side",
    "64615": "Chemodenervation for chronic migraine (both sides)",
    "64616": "Chemodenervation, neck muscles, per side",
    "64617": "Chemodenervation, larynx, per side",
    "64642": "Chemodenervation, one extremity, 1 to 4 muscles",
    "64643": "Chemodenervation, each additional extremity, 1 to 4 muscles",
    "64644": "Chemodenervation, one extremity, 5 or more muscles",
    "64645": "Chemodenervation, each additional extremity, 5 or more muscles",
    "64646": "Chemodenervation, trunk, 1 to 5 muscles",
    "64647": "Chemodenervation, trunk, 6 or more muscles",
    "95873": "Electrical stimulation guidance",
    "95874": "Needle EMG guidance",
    "76942": "Ultrasound guidance",
    "J0585": "OnabotulinumtoxinA, per unit",
}
_MODIFIERS = {
    "50": "both sides",
    "RT": "right side",
    "LT": "left side",
    "JW": "amount discarded",
    "JZ": "nothing discarded",
}


def line_description(code: str, modifiers: Sequence[str]) -> str:
    """A plain description of a claim line (clinical-facts section 4, paraphrased)."""
    text = _DESCRIPTIONS.get(code, "Procedure or supply")
    extra = [_MODIFIERS[m] for m in modifiers if m in _MODIFIERS]
    return text + (f" ({', '.join(extra)})" if extra else "")
