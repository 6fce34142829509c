"""The inventory app's numbers, read from clinic_rules (the only module here that does)."""

from __future__ import annotations

from decimal import Decimal

from clinic_rules.data import rule
from clinic_rules.reconstitution import vial_use


def vial_sizes() -> tuple[int, ...]:
    """Therapeutic vial sizes (BTX-VIAL-SIZES)."""
    return tuple(int(s) for s in rule("BTX-VIAL-SIZES").nums("sizes"))


def wasted_on_discard(size_units: int, units_used: Decimal) -> Decimal:
    """What a discarded vial wastes: all it has not given (POLICY-SINGLE-DOSE-VIAL, S29, S32)."""
    _, wasted = vial_use([size_units], float(units_used))[0]
    return Decimal(str(wasted))
