"""``diary-summary`` counts the days with any acute medication per period (a day with two
classes counts once), the figure the patient's period chart shows."""

from __future__ import annotations

from clinic_rules import run


def _day(iso: str, *classes: str) -> dict[str, object]:
    return {
        "date": iso,
        "headache": bool(classes),
        "hours": 5.0 if classes else 0.0,
        "severity": 2 if classes else 0,
        "acute_medications": [{"class": c} for c in classes],
    }


def test_a_day_with_two_medication_classes_counts_once() -> None:
    doc = {
        "as_of": "2024-03-28",
        "period_days": 28,
        "days": [
            _day("2024-03-01", "triptan", "simple_analgesic"),
            _day("2024-03-02", "triptan"),
            _day("2024-03-03"),
        ],
    }
    period = run("diary-summary", doc)["periods"][-1]  # type: ignore[index]
    assert period["any_acute_medication_days"] == 2
    assert period["acute_medication_days"]["triptan"] == 2
    assert period["acute_medication_days"]["simple_analgesic"] == 1
