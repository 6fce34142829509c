"""Units given from and wasted of each vial, and the diluent for a wanted concentration."""

from __future__ import annotations

from clinic_rules.reconstitution import diluent_ml_for, vial_use


def test_vials_fill_in_order_and_the_rest_is_waste() -> None:
    assert vial_use([200], 155.0) == [(155.0, 45.0)]
    assert vial_use([100, 100], 155.0) == [
        (100.0, 0.0),
        (55.0, 45.0),
    ]


def test_more_vials_than_the_dose_waste_whole_vials() -> None:
    assert vial_use([100, 100], 60.5) == [
        (60.5, 39.5),
        (0.0, 100.0),
    ]


def test_no_units_given_wastes_everything_and_no_vial_gives_nothing() -> None:
    assert vial_use([200], -1.0) == [(0.0, 200.0)]
    assert vial_use([], 10.0) == []


def test_chronic_migraine_dilution_is_4_ml_for_200_units() -> None:
    assert diluent_ml_for(200, 5) == 4.0
    assert diluent_ml_for(100, 5) == 2.0
