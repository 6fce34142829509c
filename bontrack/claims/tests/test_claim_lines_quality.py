"""Claim lines checked line by line against the coding facts (clinical-facts.md section 4):
J0585 administered units, JW for waste or JZ when none (4.3), CPT and modifiers (4.1), guidance
(4.2), ICD-10-CM (4.4), NDC in 11-digit form with N4 and UN."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations_with_replacement

import pytest

from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db

NDC11 = {100: "00023114501", 200: "00023392102"}
CD = "cervical_dystonia"


def _rows(claim):
    return [
        (x.code, x.modifiers, x.units, x.icd10, x.ndc, x.ndc_qualifier, x.ndc_unit, x.ndc_quantity)
        for x in claim.lines.order_by("position")
    ]


def _combos(dose: int) -> list[tuple[int, ...]]:
    """Every set of 100 U and 200 U vials that covers the dose with no vial to spare."""
    out = []
    for n in range(1, 6):
        for combo in combinations_with_replacement((200, 100), n):
            if sum(combo) >= dose and sum(combo) - min(combo) < dose:
                out.append(combo)
    return out


CASES = [(dose, combo) for dose in (155, 195, 200, 300, 360) for combo in _combos(dose)]


def test_the_vial_combinations_are_the_expected_ones():
    assert {d: [c for dd, c in CASES if dd == d] for d in (155, 300, 360)} == {
        155: [(200,), (100, 100)],
        300: [(200, 200), (200, 100), (100, 100, 100)],
        360: [(200, 200), (200, 100, 100), (100, 100, 100, 100)],
    }
    assert len(CASES) == 12


@pytest.mark.parametrize(
    "dose,vials", CASES, ids=[f"{d}U-{'+'.join(map(str, c))}" for d, c in CASES]
)
def test_waste_and_jw_jz_lines_for_every_vial_combination(world, dose, vials):
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, CD, "G24.3")
    half = Decimal(dose) / 2
    s = session(
        world.patient,
        [(CD, "sternocleidomastoid", "left", half), (CD, "splenius_capitis", "right", half)],
        list(vials),
    )
    claim = create_claim(s, None)
    assert claim is not None and claim.status == ClaimStatus.READY, claim.attention
    drug = [r for r in _rows(claim) if r[0] == "J0585"]
    waste = sum(vials) - dose
    # One administered line per NDC (no JW/JZ when there is waste, JZ when there is none) ...
    given_by_ndc: dict[str, Decimal] = {}
    left = Decimal(dose)
    for size in vials:
        used = min(Decimal(size), left)
        left -= used
        if used:
            given_by_ndc[NDC11[size]] = given_by_ndc.get(NDC11[size], Decimal(0)) + used
    admin = [r for r in drug if "JW" not in r[1]]
    assert [(r[4], r[2]) for r in admin] == list(given_by_ndc.items())
    assert all(r[1] == ([] if waste else ["JZ"]) for r in admin)
    assert sum(r[2] for r in admin) == dose
    # ... and the discarded units on JW lines, per NDC, never with JZ.
    jw = [r for r in drug if "JW" in r[1]]
    assert sum((r[2] for r in jw), Decimal(0)) == waste
    assert all(r[1] == ["JW"] for r in jw)
    assert bool(jw) == (waste > 0)
    for r in drug:
        assert (r[5], r[6], r[7]) == ("N4", "UN", r[2])
        assert r[3] == ["G24.3"]
    assert claim.totals["units_wasted"] == waste


def test_bilateral_cervical_dystonia_with_emg_guidance(world):
    from bontrack.claims.actions.review import refresh_lines

    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, CD, "G24.3")
    s = session(
        world.patient,
        [
            (CD, "sternocleidomastoid", "left", 40),
            (CD, "splenius_capitis", "right", 60),
            (CD, "trapezius", "bilateral", 60),
            (CD, "levator_scapulae", "left", 40),
        ],
        [200],
    )
    claim = create_claim(s, None)
    claim = refresh_lines(
        actor=world.users["billing"],
        claim=claim,
        guidance="emg",
        reason="EMG in the procedure note",
    )
    assert _rows(claim) == [
        ("64616", ["50"], 1, ["G24.3"], "", "", "", None),  # both sides: one line, modifier 50
        ("95874", [], 1, ["G24.3"], "", "", "", None),  # needle EMG guidance, once
        ("J0585", ["JZ"], 200, ["G24.3"], NDC11[200], "N4", "UN", 200),
    ]
    assert claim.status == ClaimStatus.READY
    # Guidance with 64616: the pairing list is unconfirmed, an advisory note only.
    assert any(f["severity"] == "info" and not f["confirmed"] for f in claim.findings)


def test_two_limb_spasticity(world):
    uls = "upper_limb_spasticity"
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, uls, "I69.351")
    diagnose(world.patient, "lower_limb_spasticity", "I69.351")
    arm = [
        "biceps_brachii",
        "brachialis",
        "brachioradialis",
        "flexor_carpi_radialis",
        "flexor_carpi_ulnaris",
    ]
    sites = [(uls, m, "right", 30) for m in arm]
    sites += [("lower_limb_spasticity", m, "right", 50) for m in ("soleus", "tibialis_posterior")]
    s = session(world.patient, sites, [200, 200])
    claim = create_claim(s, None)
    assert _rows(claim) == [
        ("64644", [], 1, ["I69.351"], "", "", "", None),  # right arm, 5 muscles: base 64644
        ("64643", [], 1, ["I69.351"], "", "", "", None),  # right leg, 2 muscles: add-on 64643
        ("J0585", [], 250, ["I69.351"], NDC11[200], "N4", "UN", 250),  # one NDC: one line
        ("J0585", ["JW"], 150, ["I69.351"], NDC11[200], "N4", "UN", 150),
    ]
    assert claim.status == ClaimStatus.READY, claim.attention


def test_blepharospasm(world):
    b = "blepharospasm"
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, b, "G24.5")
    sites = [
        (b, m, side, 2.5)
        for side in ("left", "right")
        for m in (
            "orbicularis_oculi_pretarsal_upper_medial",
            "orbicularis_oculi_pretarsal_upper_lateral",
            "orbicularis_oculi_pretarsal_lower_lateral",
        )
    ]
    s = session(world.patient, sites, [100])
    claim = create_claim(s, None)
    assert _rows(claim) == [
        ("64612", ["50"], 1, ["G24.5"], "", "", "", None),
        ("J0585", [], 15, ["G24.5"], NDC11[100], "N4", "UN", 15),
        ("J0585", ["JW"], 85, ["G24.5"], NDC11[100], "N4", "UN", 85),
    ]


def test_combined_migraine_and_cervical_dystonia(world):
    from bontrack.treatments import facts as treatment_facts

    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, "chronic_migraine", "G43.709")
    diagnose(world.patient, CD, "G24.3")
    sites = [
        ("chronic_migraine", r["muscle"], r["side"], r["units"])
        for r in treatment_facts.preempt_rows()
    ]
    sites += [(CD, "sternocleidomastoid", "left", 50), (CD, "splenius_capitis", "left", 45)]
    s = session(world.patient, sites, [200, 100])
    claim = create_claim(s, None)
    rows = _rows(claim)
    # 64615 once; 64616 is not reported with 64615 (4.1), a warning says so.
    assert rows == [
        ("64615", [], 1, ["G43.709"], "", "", "", None),
        ("J0585", [], 200, ["G24.3", "G43.709"], NDC11[200], "N4", "UN", 200),
        ("J0585", [], 50, ["G24.3", "G43.709"], NDC11[100], "N4", "UN", 50),
        ("J0585", ["JW"], 50, ["G24.3", "G43.709"], NDC11[100], "N4", "UN", 50),
    ]
    assert claim.diagnoses == ["G43.709", "G24.3"]
    assert claim.status == ClaimStatus.NEEDS_ATTENTION
    assert any("64615 is billed once" in a for a in claim.attention)


def test_a_missing_diagnosis_is_a_sentence_in_needs_attention(world):
    profile(world.practice)
    cover(world.patient)
    s = session(world.patient, [(CD, "sternocleidomastoid", "left", 100)], [100])
    claim = create_claim(s, None)
    assert claim.status == ClaimStatus.NEEDS_ATTENTION
    assert (
        "No ICD-10-CM code on file for cervical dystonia: add the diagnosis" in claim.attention[0]
    )
