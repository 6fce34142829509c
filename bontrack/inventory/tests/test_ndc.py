"""NDCs are stored in the 11-digit 5-4-2 billing form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from bontrack.inventory.ndc import normalize

CASES = [
    ("0023-1145-01", "00023-1145-01"),  # 4-4-2: the labeler code is padded
    ("00023-1145-01", "00023-1145-01"),  # already 5-4-2
    ("12345-678-90", "12345-0678-90"),  # 5-3-2: the product code is padded
    ("12345-6789-1", "12345-6789-01"),  # 5-4-1: the package code is padded
    ("00023392102", "00023-3921-02"),  # 11 digits without hyphens
    (" 0023-3921-02 ", "00023-3921-02"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_an_ndc_is_stored_in_its_11_digit_form(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "0023114501", "123-4567-89", "0023-1145", "00023-11450-1", "0023-1145-0a", "１２３"],
)
def test_a_malformed_ndc_is_refused_with_a_sentence(text):
    with pytest.raises(ValidationError) as exc:
        normalize(text)
    assert "NDC" in exc.value.message_dict["ndc"][0]
