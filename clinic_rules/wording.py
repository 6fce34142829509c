"""Plain words for finding messages: units with U, dates in words, muscle, side and indication
labels. A finding's message is a sentence a clinician reads; its rule ID, source and description
travel as separate fields (the staff UI shows them behind a "Why?" disclosure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from .model import AcuteClass, Flag, Indication, PreventiveClass, Product, Side, num
from .vocabulary import INDICATION_LABELS, MUSCLE_LABELS, PRODUCT_LABELS

MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

FLAG_SENTENCES: Final[dict[Flag, str]] = {
    Flag.BOTULINUM_HYPERSENSITIVITY: (
        "The chart records a hypersensitivity to botulinum toxin: BOTOX must not be given."
    ),
    Flag.INJECTION_SITE_INFECTION: (
        "The chart records an infection at the injection site: do not inject an infected site."
    ),
    Flag.NEUROMUSCULAR_DISORDER: (
        "The chart records a neuromuscular disorder: the risk of severe trouble swallowing or "
        "breathing is higher; monitor closely."
    ),
    Flag.PREGNANCY_OR_BREASTFEEDING: (
        "The chart records pregnancy or breastfeeding: check the current prescribing information."
    ),
    Flag.AMINOGLYCOSIDE_USE: (
        "The chart records aminoglycoside use, which may strengthen the effect of the toxin."
    ),
    Flag.DYSPHAGIA_OR_BREATHING: (
        "The chart records trouble swallowing or breathing, which raises the risk of serious "
        "side effects."
    ),
    Flag.OTHER_TOXIN_LAST_4_MONTHS: (
        "The chart records another botulinum toxin in the last 4 months: take it into account "
        "and note it."
    ),
}

PREVENTIVE_LABELS: Final[dict[PreventiveClass, str]] = {
    PreventiveClass.BETA_BLOCKER: "beta blocker",
    PreventiveClass.ANTIEPILEPTIC: "antiepileptic",
    PreventiveClass.TRICYCLIC_ANTIDEPRESSANT: "tricyclic antidepressant",
    PreventiveClass.SNRI: "SNRI",
    PreventiveClass.CALCIUM_CHANNEL_BLOCKER: "calcium channel blocker",
    PreventiveClass.ANGIOTENSIN_BLOCKER: "angiotensin blocker",
    PreventiveClass.CGRP_ANTIBODY: "CGRP antibody",
    PreventiveClass.GEPANT: "gepant",
    PreventiveClass.OTHER: "other preventive",
}

ACUTE_LABELS: Final[dict[AcuteClass, str]] = {
    AcuteClass.TRIPTAN: "triptan",
    AcuteClass.ERGOT: "ergot",
    AcuteClass.SIMPLE_ANALGESIC: "simple analgesic",
    AcuteClass.OPIOID: "opioid",
    AcuteClass.COMBINATION_ANALGESIC: "combination analgesic",
    AcuteClass.OTHER: "other acute medicine",
}

SIDE_WORDS: Final = {
    "left": "left",
    "right": "right",
    "midline": "midline",
    "bilateral": "both sides",
}
SIDE_PLACES: Final = {
    "left": "on the left",
    "right": "on the right",
    "midline": "in the midline",
    "bilateral": "on both sides",
}


def units(value: float) -> str:
    """``495 U``."""
    return f"{num(value)} U"


def day(value: date) -> str:
    """``3 March 2026``."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def span(start: date, end: date) -> str:
    """``from 3 March 2026 to 25 May 2026``."""
    return f"from {day(start)} to {day(end)}"


def indication(ind: Indication) -> str:
    """``chronic migraine`` (inside a sentence)."""
    return INDICATION_LABELS[ind].lower()


def indication_label(ind: Indication) -> str:
    """``Chronic migraine`` (at the start of a sentence)."""
    return INDICATION_LABELS[ind]


def product(p: Product) -> str:
    return PRODUCT_LABELS[p]


def muscle(code: str) -> str:
    """``Temporalis``; an unknown code in words."""
    return MUSCLE_LABELS.get(code, code.replace("_", " ").capitalize())


def where(code: str, side: Side | str) -> str:
    """``Left temporalis``, ``Procerus (midline)``, ``Frontalis (both sides)``."""
    name = muscle(code)
    value = side.value if isinstance(side, Side) else side
    if value in ("left", "right"):
        return f"{value.capitalize()} {name[:1].lower()}{name[1:]}"
    return f"{name} ({SIDE_WORDS.get(value, value)})"


def listing(items: Sequence[object]) -> str:
    """``16, 18 and 17``."""
    words = [str(i) for i in items]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def plural(n: float, one: str, many: str) -> str:
    return f"{num(n)} {one if num(n) == 1 else many}"


def percent(share: float) -> str:
    return f"{share:.0%}"
