"""Codes and labels shared by UI, API and rules; the PREEMPT template for the head map."""

from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Final

from .data import rule, rule_set
from .model import OFF_LABEL, FindingCode, Indication, Product, Severity

CM, CD, BLEPH = Indication.CHRONIC_MIGRAINE, Indication.CERVICAL_DYSTONIA, Indication.BLEPHAROSPASM
ULS, LLS = Indication.UPPER_LIMB_SPASTICITY, Indication.LOWER_LIMB_SPASTICITY
FP = Indication.FACIAL_PAIN

INDICATION_LABELS: Final = MappingProxyType(
    {
        CM: "Chronic migraine",
        CD: "Cervical dystonia",
        BLEPH: "Blepharospasm",
        ULS: "Upper limb spasticity",
        LLS: "Lower limb spasticity",
        FP: "Facial pain (off-label)",
    }
)

PRODUCT_LABELS: Final = MappingProxyType(
    {
        Product.ONABOTULINUMTOXIN_A: "onabotulinumtoxinA (BOTOX)",
        Product.ABOBOTULINUMTOXIN_A: "abobotulinumtoxinA (Dysport)",
        Product.INCOBOTULINUMTOXIN_A: "incobotulinumtoxinA (Xeomin)",
        Product.RIMABOTULINUMTOXIN_B: "rimabotulinumtoxinB (Myobloc)",
        Product.DAXIBOTULINUMTOXIN_A: "daxibotulinumtoxinA (Daxxify)",
    }
)

# muscle code -> (label, indications)
_MUSCLES: Final[dict[str, tuple[str, tuple[Indication, ...]]]] = {
    "corrugator": ("Corrugator", (CM, FP)),
    "procerus": ("Procerus", (CM, FP)),
    "frontalis": ("Frontalis", (CM, FP)),
    "temporalis": ("Temporalis", (CM, FP)),
    "occipitalis": ("Occipitalis", (CM, FP)),
    "cervical_paraspinal": ("Cervical paraspinal group", (CM, FP)),
    "trapezius": ("Trapezius", (CM, CD, FP)),
    "sternocleidomastoid": ("Sternocleidomastoid", (CD, FP)),
    "splenius_capitis": ("Splenius capitis", (CD, FP)),
    "levator_scapulae": ("Levator scapulae", (CD, FP)),
    "scalenes": ("Scalenes", (CD, FP)),
    "semispinalis_capitis": ("Semispinalis capitis", (CD, FP)),
    "longissimus": ("Longissimus", (CD, FP)),
    "biceps_brachii": ("Biceps brachii", (ULS,)),
    "brachialis": ("Brachialis", (ULS,)),
    "brachioradialis": ("Brachioradialis", (ULS,)),
    "pronator_teres": ("Pronator teres", (ULS,)),
    "pronator_quadratus": ("Pronator quadratus", (ULS,)),
    "flexor_carpi_radialis": ("Flexor carpi radialis", (ULS,)),
    "flexor_carpi_ulnaris": ("Flexor carpi ulnaris", (ULS,)),
    "flexor_digitorum_profundus": ("Flexor digitorum profundus", (ULS,)),
    "flexor_digitorum_superficialis": ("Flexor digitorum superficialis (sublimis)", (ULS,)),
    "lumbricals": ("Lumbricals", (ULS,)),
    "interossei": ("Interossei", (ULS,)),
    "adductor_pollicis": ("Adductor pollicis", (ULS,)),
    "flexor_pollicis_longus": ("Flexor pollicis longus", (ULS,)),
    "flexor_pollicis_brevis": ("Flexor pollicis brevis", (ULS,)),
    "opponens_pollicis": ("Opponens pollicis", (ULS,)),
    "gastrocnemius_medial": ("Gastrocnemius, medial head", (LLS,)),
    "gastrocnemius_lateral": ("Gastrocnemius, lateral head", (LLS,)),
    "soleus": ("Soleus", (LLS,)),
    "tibialis_posterior": ("Tibialis posterior", (LLS,)),
    "flexor_hallucis_longus": ("Flexor hallucis longus", (LLS,)),
    "flexor_digitorum_longus": ("Flexor digitorum longus", (LLS,)),
    "orbicularis_oculi_pretarsal_upper_medial": (
        "Orbicularis oculi, pretarsal, upper lid medial",
        (BLEPH, FP),
    ),
    "orbicularis_oculi_pretarsal_upper_lateral": (
        "Orbicularis oculi, pretarsal, upper lid lateral",
        (BLEPH, FP),
    ),
    "orbicularis_oculi_pretarsal_lower_lateral": (
        "Orbicularis oculi, pretarsal, lower lid lateral",
        (BLEPH, FP),
    ),
}

MUSCLES: Final = tuple(_MUSCLES)
MUSCLE_INDICATIONS: Final = MappingProxyType({m: frozenset(v[1]) for m, v in _MUSCLES.items()})
MUSCLE_LABELS: Final = MappingProxyType({m: v[0] for m, v in _MUSCLES.items()})

_AGE_RULES: Final = {
    CM: ("BTX-CM-AGE-18",),
    CD: ("BTX-CD-AGE-18",),
    BLEPH: ("BTX-BLEPH-AGE-12",),
    ULS: ("BTX-SPAS-PEDS-AGE-2",),
    LLS: ("BTX-SPAS-PEDS-AGE-2",),
}
AGE_RULES: Final = MappingProxyType(_AGE_RULES)


@functools.cache
def preempt_template() -> tuple[dict[str, object], ...]:
    """PREEMPT 31-site rows (muscle, side, sites, units per site) plus follow-the-pain limits."""
    btx = rule_set("botox-us")
    per_site = btx["BTX-CM-5U-PER-SITE"].num("units_per_site")
    ceilings = btx["BTX-CM-FTP-MUSCLE-MAX"].table("ceilings")
    rows: list[dict[str, object]] = []
    for muscle, sides in btx["BTX-CM-PREEMPT-SITES"].table("sites").items():
        assert isinstance(sides, dict)
        ceiling = ceilings.get(muscle)
        for side, sites in sides.items():
            rows.append(
                {
                    "muscle": muscle,
                    "label": _MUSCLES[muscle][0],
                    "side": side,
                    "sites": sites,
                    "units_per_site": int(per_site),
                    "units": int(sites * per_site),
                    "follow_the_pain": ceiling is not None,
                }
            )
    return tuple(rows)


@functools.cache
def follow_the_pain_limits() -> dict[str, object]:
    btx = rule_set("botox-us")
    total = btx["BTX-CM-FTP-TOTAL-195"]
    return {
        "muscles": list(btx["BTX-CM-FTP-MUSCLES"].strs("muscles")),
        "per_muscle": {
            m: dict(v)
            for m, v in btx["BTX-CM-FTP-MUSCLE-MAX"].table("ceilings").items()
            if isinstance(v, dict)
        },
        "max_units": int(total.num("max_units")),
        "max_sites": int(total.num("max_sites")),
        "rule_ids": ["BTX-CM-FTP-MUSCLES", "BTX-CM-FTP-MUSCLE-MAX", "BTX-CM-FTP-TOTAL-195"],
    }


def _indication_entry(ind: Indication) -> dict[str, object]:
    adult_age = rule("BTX-PEDIATRIC-AGE").int_("adult_age")
    if ind in OFF_LABEL:
        # No labelled age: a clinic-defined protocol for adults; children follow the pediatric
        # cumulative limit whatever the protocol.
        return {
            "code": ind.value,
            "label": INDICATION_LABELS[ind],
            "adult_age": adult_age,
            "min_age": adult_age,
            "pediatric": False,
            "age_rule_id": "BTX-PEDIATRIC-AGE",
            "off_label": True,
        }
    gate = rule(_AGE_RULES[ind][0])
    min_age = gate.int_("min_age")
    entry: dict[str, object] = {
        "code": ind.value,
        "label": INDICATION_LABELS[ind],
        "adult_age": adult_age,
        "min_age": min_age,
        "pediatric": min_age < adult_age,
        "age_rule_id": gate.id,
        "off_label": False,
    }
    if ind in (ULS, LLS):
        entry["pediatric_age_range"] = [min_age, adult_age - 1]
    return entry


@functools.cache
def _vocabulary() -> dict[str, object]:
    return {
        "indications": [_indication_entry(i) for i in Indication],
        "muscles": [
            {"code": code, "label": label, "indications": [i.value for i in inds]}
            for code, (label, inds) in _MUSCLES.items()
        ],
        "products": [
            {
                "code": p.value,
                "label": PRODUCT_LABELS[p],
                "has_rules": p is Product.ONABOTULINUMTOXIN_A,
                "unit_conversion": None,
            }
            for p in Product
        ],
        "finding_codes": [c.value for c in FindingCode],
        "severities": [s.value for s in Severity],
        "preempt_template": list(preempt_template()),
        "follow_the_pain": follow_the_pain_limits(),
    }


def vocabulary() -> dict[str, object]:
    import copy

    return copy.deepcopy(_vocabulary())
