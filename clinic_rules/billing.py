"""``billing-lines``: CPT, guidance, J0585 with JW/JZ and ICD-10-CM per US section 4.

Bilateral 64612/64616 default to one line with modifier 50 (policy ``bilateral_billing``
can ask for RT and LT lines). Guidance codes are billed once per session. Ultrasound
(76942) is emitted with an info finding because its status is unconfirmed. Units are
not rounded: the fact sheet has no rounding rule for fractional units.
"""

from __future__ import annotations

from collections import defaultdict

from .data import rule_set
from .model import (
    SPASTICITY,
    BilateralBilling,
    BillingInput,
    Finding,
    Guidance,
    Indication,
    Limb,
    Side,
    findings_json,
    num,
)
from .vocabulary import INDICATION_LABELS

CM, CD, BLEPH = Indication.CHRONIC_MIGRAINE, Indication.CERVICAL_DYSTONIA, Indication.BLEPHAROSPASM


def _line(
    code: str,
    rule_id: str,
    modifiers: list[str],
    units: float,
    icd10: list[str],
    indication: Indication | None = None,
) -> dict[str, object]:
    return {
        "code": code,
        "modifiers": modifiers,
        "units": num(units),
        "icd10": icd10,
        "rule_id": rule_id,
        "indication": None if indication is None else indication.value,
    }


def evaluate(inp: BillingInput) -> dict[str, object]:
    bill = rule_set("billing-us")
    btx = rule_set("botox-us")
    findings: list[Finding] = []
    supported = {
        Indication(k): frozenset(v)
        for k, v in bill["BILL-ICD10-MATCH"].table("codes").items()
        if isinstance(v, list)
    }
    indications = sorted({i.indication for i in inp.injections})
    # A clinic-defined (off-label) protocol has no diagnosis codes on the fact sheet.
    supported.update({ind: frozenset() for ind in indications if ind not in supported})
    dx_for = {ind: [d for d in inp.diagnoses if d in supported[ind]] for ind in indications}
    all_dx = sorted({d for ds in dx_for.values() for d in ds})

    procedures: list[dict[str, object]] = []
    for ind, rid in ((BLEPH, "BILL-64612"), (CD, "BILL-64616")):
        sides: set[Side] = set()
        for inj in inp.injections:
            if inj.indication is ind:
                sides |= {Side.LEFT, Side.RIGHT} if inj.side is Side.BILATERAL else {inj.side}
        if not sides:
            continue
        code = bill[rid].str_("code")
        lateral = sorted(sides & {Side.LEFT, Side.RIGHT})
        if len(lateral) == 2 and inp.policy.bilateral_billing is BilateralBilling.MODIFIER_50:
            procedures.append(_line(code, rid, ["50"], 1, dx_for[ind], ind))
        elif lateral:
            for side in lateral:
                procedures.append(
                    _line(code, rid, ["LT" if side is Side.LEFT else "RT"], 1, dx_for[ind], ind)
                )
        else:
            procedures.append(_line(code, rid, [], 1, dx_for[ind], ind))

    ext = bill["BILL-EXTREMITY"]
    limb_muscles: dict[Limb, set[str]] = defaultdict(set)
    limb_inds: dict[Limb, set[Indication]] = defaultdict(set)
    for inj in inp.injections:
        if inj.indication in SPASTICITY and inj.limb is not None:
            limb_muscles[inj.limb].add(inj.muscle)
            limb_inds[inj.limb].add(inj.indication)
    trunk = limb_muscles.pop(Limb.TRUNK, set())
    trunk_inds = limb_inds.pop(Limb.TRUNK, set())
    large = ext.int_("large_min_muscles")
    ordered = sorted(limb_muscles.items(), key=lambda kv: (-len(kv[1]), kv[0].value))
    for pos, (limb, muscles) in enumerate(ordered[: 1 + ext.int_("max_addons")]):
        key = ("base_" if pos == 0 else "addon_") + ("large" if len(muscles) >= large else "small")
        dx = sorted({d for i in limb_inds[limb] for d in dx_for[i]})
        line = _line(ext.str_(key), ext.id, [], 1, dx)
        line["limb"] = limb.value
        line["muscles"] = len(muscles)
        procedures.append(line)
    if trunk:
        tr = bill["BILL-TRUNK"]
        key = "large" if len(trunk) >= tr.int_("large_min_muscles") else "small"
        dx = sorted({d for i in trunk_inds for d in dx_for[i]})
        line = _line(tr.str_(key), tr.id, [], 1, dx)
        line["limb"] = Limb.TRUNK.value
        line["muscles"] = len(trunk)
        procedures.append(line)

    lines: list[dict[str, object]] = []
    if CM in indications:
        lines.append(_line(bill["BILL-64615"].str_("code"), "BILL-64615", [], 1, dx_for[CM], CM))
        excl = bill["BILL-64615-EXCLUSIVE"]
        dropped = sorted({str(p["code"]) for p in procedures if p["code"] in excl.strs("excluded")})
        if dropped:
            findings.append(
                excl.finding(
                    f"64615 is billed once and not with {', '.join(dropped)}; those lines were "
                    "left out."
                )
            )
    else:
        lines += procedures

    guide = bill["BILL-GUIDANCE"]
    if inp.guidance in (Guidance.EMG, Guidance.ESTIM):
        lines.append(_line(guide.str_(inp.guidance.value), guide.id, [], 1, all_dx))
    elif inp.guidance is Guidance.ULTRASOUND:
        us = bill["BILL-76942"]
        lines.append(_line(us.str_("code"), us.id, [], 1, all_dx))
        findings.append(
            us.finding(
                "Ultrasound guidance (76942) was billed; whether payers accept it with "
                "chemodenervation is not confirmed."
            )
        )
    if inp.guidance is not Guidance.NONE and CM not in indications:
        findings.append(
            bill["BILL-GUIDANCE-PAIRING"].finding(
                "Guidance with 64612, 64616 or 64642 to 64647: the exact list of code pairs is not "
                "confirmed; check with the payer."
            )
        )

    vial_total = sum(inp.vial_sizes)
    waste = vial_total - inp.units_given
    j = bill["BILL-J0585"].str_("code")
    if waste > 0:
        lines.append(_line(j, "BILL-J0585", [], inp.units_given, all_dx))
        jw = bill["BILL-JW"]
        lines.append(_line(j, jw.id, [jw.str_("modifier")], waste, all_dx))
        findings.append(
            jw.finding(f"{num(waste)} U discarded: record the discarded amount in the note.")
        )
    else:
        lines.append(
            _line(j, "BILL-J0585", [bill["BILL-JZ"].str_("modifier")], inp.units_given, all_dx)
        )

    sizes = btx["BTX-VIAL-SIZES"]
    for i, size in enumerate(inp.vial_sizes):
        if float(size) not in sizes.nums("sizes"):
            findings.append(
                sizes.finding(f"Vial {i + 1}: {size} U is not a BOTOX vial size (100 U or 200 U).")
            )

    match = bill["BILL-ICD10-MATCH"]
    for ind in indications:
        if not dx_for[ind]:
            findings.append(
                match.finding(
                    f"No diagnosis on the claim supports {INDICATION_LABELS[ind].lower()}."
                )
            )
    for code in sorted(set(inp.diagnoses)):
        if not any(code in supported[ind] for ind in indications):
            findings.append(
                match.finding(f"Diagnosis {code} does not support any indication in this session.")
            )
    unconfirmed = bill["BILL-ICD10-UNCONFIRMED"]
    for code in sorted(set(inp.diagnoses) & set(unconfirmed.strs("codes"))):
        findings.append(
            unconfirmed.finding(
                f"Diagnosis {code}: the code's status is not confirmed; check the current "
                "ICD-10-CM."
            )
        )

    return {
        "rule_set": bill.label,
        "rule_sets": [bill.label, btx.label, rule_set("policy").label],
        "lines": lines,
        "totals": {
            "units_given": num(inp.units_given),
            "units_wasted": num(waste),
            "vial_units": num(vial_total),
            "vials_opened": len(inp.vial_sizes),
        },
        "findings": findings_json(findings),
    }
