"""NDC forms on a claim: every labelled form becomes the 11-digit 5-4-2 form; the form inventory
stores (already 5-4-2, with hyphens) stays as it is."""

from __future__ import annotations

import pytest

from bontrack.claims.codes import ndc11, ndc_display


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0023-1145-01", "00023114501"),  # 4-4-2
        ("00023-145-01", "00023014501"),  # 5-3-2
        ("00023-3921-2", "00023392102"),  # 5-4-1
        ("00023-3921-02", "00023392102"),  # 5-4-2 (inventory's stored form)
        ("00023392102", "00023392102"),
        ("0023-1145-1", None),  # 9 digits
        ("00023-39210-02", None),
        ("abc", None),
    ],
)
def test_ndc11(text, expected):
    assert ndc11(text) == expected
    if expected:
        assert ndc_display(expected).replace("-", "") == expected
