"""``reconstitution``: concentration of a reconstituted vial, or a vial plan for a dose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .data import rule_set
from .model import Indication, num

EPS = 1e-9
_DILUTION_RULES = {
    "BTX-DIL-CM": (Indication.CHRONIC_MIGRAINE,),
    "BTX-DIL-CD": (Indication.CERVICAL_DYSTONIA,),
    "BTX-DIL-BLEPH": (Indication.BLEPHAROSPASM,),
    "BTX-DIL-SPAS-ADULT": (Indication.UPPER_LIMB_SPASTICITY, Indication.LOWER_LIMB_SPASTICITY),
}


@dataclass(frozen=True, slots=True)
class Concentration:
    size_units: float
    diluent_ml: float


@dataclass(frozen=True, slots=True)
class PlanRequest:
    dose_units: float
    size_units_available: tuple[int, ...]


def concentration(req: Concentration) -> dict[str, object]:
    btx = rule_set("botox-us")
    tenth = req.size_units / (req.diluent_ml * btx["BTX-DILUTION-ARITH"].num("tenths_per_ml"))
    protocols = [
        {"indication": ind.value, "rule_id": rid}
        for rid, inds in _DILUTION_RULES.items()
        for ind in inds
        if any(abs(tenth - c) < EPS for c in btx[rid].nums("units_per_tenth_ml"))
    ]
    sourced = any(abs(tenth - c) < EPS for c in btx["BTX-DIL-ODD"].nums("units_per_tenth_ml"))
    return {
        "rule_set": btx.label,
        "rule_ids": ["BTX-DILUTION-ARITH"],
        "size_units": num(req.size_units),
        "diluent_ml": num(req.diluent_ml),
        "units_per_0_1_ml": round(tenth, 4),
        "units_per_ml": round(tenth * 10, 4),
        "sourced_dilution": sourced,
        "matches_protocols": protocols,
    }


def plan(req: PlanRequest) -> dict[str, object]:
    """Fewest single-dose vials whose total covers the dose, then least waste.

    Unbounded change-making by dynamic programming over totals below dose + largest vial
    (a cheaper plan can never exceed that: dropping one vial would still cover the dose).
    """
    sizes = sorted(set(req.size_units_available))
    dose = req.dose_units
    limit = int(dose) + max(sizes) + 1
    inf = limit + 1
    best = [0] + [inf] * limit
    choice = [0] * (limit + 1)
    for total in range(1, limit + 1):
        for size in sizes:
            if size <= total and best[total - size] + 1 < best[total]:
                best[total] = best[total - size] + 1
                choice[total] = size
    candidates = [t for t in range(limit + 1) if t >= dose - EPS and best[t] < inf]
    total = min(candidates, key=lambda t: (best[t], t))
    counts: dict[int, int] = {}
    rest = total
    while rest:
        counts[choice[rest]] = counts.get(choice[rest], 0) + 1
        rest -= choice[rest]
    return {
        "rule_set": rule_set("policy").label,
        "rule_ids": ["POLICY-SINGLE-DOSE-VIAL"],
        "dose_units": num(dose),
        "vials": [{"size_units": s, "count": c} for s, c in sorted(counts.items(), reverse=True)],
        "vial_count": best[total],
        "total_units": total,
        "waste_units": num(total - dose),
    }


def diluent_ml_for(size_units: float, units_per_tenth_ml: float) -> float:
    """mL of diluent that gives ``units_per_tenth_ml`` from a vial (BTX-DILUTION-ARITH, inverted)."""
    tenths_per_ml = rule_set("botox-us")["BTX-DILUTION-ARITH"].num("tenths_per_ml")
    return size_units / (units_per_tenth_ml * tenths_per_ml)


def vial_use(size_units: Sequence[int], units_given: float) -> list[tuple[float, float]]:
    """Units given from and wasted of each single-dose vial, filled in order (to 0.01 U).

    POLICY-SINGLE-DOSE-VIAL (S29, S32): a vial serves one patient, so what it does not give is
    waste: per vial ``used + wasted = size``, and in all ``given + wasted = sum of sizes`` when the
    vials cover the dose. Counted in hundredths of a unit, so the results are exact to 0.01 U.
    """
    remaining = max(0, round(units_given * 100))
    out = []
    for size in size_units:
        used = min(size * 100, remaining)
        remaining -= used
        out.append((used / 100, (size * 100 - used) / 100))
    return out
