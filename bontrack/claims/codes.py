"""Plain helpers for claim codes (formats, not clinical facts): NDC 10 to 11 digits, ICD-10-CM
without its dot, modifiers as text."""

from __future__ import annotations

import re

_NDC_PARTS = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")


def ndc11(ndc: str) -> str | None:
    """The 11-digit (5-4-2) form of a labelled NDC: 4-4-2, 5-3-2 and 5-4-1 get their leading
    zero; an 11-digit NDC stays; anything else is None."""
    text = ndc.strip()
    if re.fullmatch(r"\d{11}", text):
        return text
    m = _NDC_PARTS.match(text)
    if m is None:
        return None
    labeler, product, package = m.groups()
    if (len(labeler), len(product), len(package)) == (5, 4, 2):
        return labeler + product + package  # already the 11-digit 5-4-2 form (inventory stores it)
    if len(labeler) + len(product) + len(package) != 10:
        return None
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)


def ndc_display(ndc: str) -> str:
    """00023392102 -> 00023-3921-02."""
    return f"{ndc[:5]}-{ndc[5:9]}-{ndc[9:]}" if len(ndc) == 11 else ndc


def icd_plain(code: str) -> str:
    """ICD-10-CM as X12 sends it (no dot)."""
    return code.replace(".", "")


def modifiers_text(modifiers: list[str]) -> str:
    return " ".join(modifiers)


def parse_modifiers(text: str) -> list[str]:
    """Up to four two-character modifiers, separated by spaces or commas (uppercased)."""
    parts = [p for p in re.split(r"[\s,]+", text.strip().upper()) if p]
    if len(parts) > 4 or any(not re.fullmatch(r"[A-Z0-9]{2}", p) for p in parts):
        raise ValueError("Up to four modifiers of two letters or digits each, e.g. 50 or JW.")
    return parts
