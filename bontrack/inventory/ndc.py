"""National Drug Codes in the 11-digit 5-4-2 form that claims use (HIPAA billing format).

A package label prints a 10-digit NDC in one of three shapes (4-4-2, 5-3-2, 5-4-1); the billing
form pads the short segment with a leading zero. This is a coding format, not a clinical number.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_HYPHENATED = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")
_DIGITS = re.compile(r"^\d{11}$")
MESSAGE = (
    "Enter the NDC as printed on the carton (for example 0023-1145-01) or in its 11-digit form "
    "(00023-1145-01)."
)


def normalize(text: str) -> str:
    """The 11-digit ``NNNNN-NNNN-NN`` form of an NDC, or ValidationError({"ndc": ...})."""
    value = text.strip().replace(" ", "")
    if _DIGITS.match(value):
        return f"{value[:5]}-{value[5:9]}-{value[9:]}"
    m = _HYPHENATED.match(value)
    if m is None:
        raise ValidationError({"ndc": [MESSAGE]})
    labeler, product, package = m.groups()
    shape = (len(labeler), len(product), len(package))
    if shape not in {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}:
        raise ValidationError({"ndc": [MESSAGE]})
    return f"{labeler.zfill(5)}-{product.zfill(4)}-{package.zfill(2)}"


def is_normalized(value: str) -> bool:
    return bool(re.match(r"^\d{5}-\d{4}-\d{2}$", value))
