"""The 837P names the subscriber correctly: a patient insured through a parent's plan is the
subscriber's dependent (2000B/2010BA the policy holder with the member ID, SBR02 blank; 2000C/
2010CA the patient with PAT01 19, HL parent and child codes right), pyx12 accepts it; a patient
who holds the policy gets exactly the file it got before dependents existed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bontrack.claims import x12
from bontrack.claims.actions.export import export_batch
from bontrack.claims.actions.generate import create_claim
from bontrack.claims.models import Claim, Coverage
from bontrack.core.errors import Conflict

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"
SERVICE = datetime(2026, 10, 6, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "data" / "837p_patient_is_subscriber.x12"


def _claim(patient) -> Claim:  # type: ignore[no-untyped-def]
    diagnose(patient, CD, "G24.3")
    claim = create_claim(
        session(
            patient,
            [(CD, "sternocleidomastoid", "bilateral", 80), (CD, "splenius_capitis", "left", 75)],
            [200],
            performed_at=SERVICE,
        ),
        None,
    )
    assert claim is not None
    return claim


def _dependent(patient, relationship: str = "parent") -> Coverage:  # type: ignore[no-untyped-def]
    return Coverage.objects.create(
        patient=patient,
        payer_name="Aetna",
        payer_id="60054",
        member_id="AET12345678",
        group_number="G4455",
        filing_indicator="CI",
        subscriber_relationship=relationship,
        subscriber_last_name="Moreno",
        subscriber_first_name="Ana",
        address="42 Lakeview Drive",
        city="Springfield",
        state="IL",
        zip_code="62704",
    )


def _segments(text: str) -> list[str]:
    return [s for s in text.splitlines() if s]


def test_a_child_on_a_parents_plan_is_the_subscribers_dependent(world):
    profile(world.practice)
    _dependent(world.patient)
    claim = _claim(world.patient)
    batch = export_batch(actor=world.users["billing"])
    assert x12.validate(batch.x12_text) == []
    seg = _segments(batch.x12_text)
    start = seg.index("HL*2*1*22*1~")
    assert seg[start : start + 9] == [
        "HL*2*1*22*1~",  # the subscriber level has a child level
        "SBR*P**G4455******CI~",  # SBR02 blank, group number in SBR03
        "NM1*IL*1*MORENO*ANA****MI*AET12345678~",  # the policy holder, no address or DMG
        "NM1*PR*2*AETNA*****PI*60054~",
        "HL*3*2*23*0~",  # the patient level under the subscriber
        "PAT*19~",  # the patient is the subscriber's child
        f"NM1*QC*1*{world.patient.last_name.upper()}*{world.patient.first_name.upper()}~",
        "N3*42 LAKEVIEW DRIVE~",
        "N4*SPRINGFIELD*IL*62704~",
    ]
    assert seg[start + 9] == "DMG*D8*19800517*F~"
    assert seg[start + 10].startswith(f"CLM*{claim.number}*")


@pytest.mark.parametrize("relationship,code", [("spouse", "01"), ("other", "G8")])
def test_a_spouse_or_other_relationship_is_coded_and_valid(world, relationship, code):
    profile(world.practice)
    _dependent(world.patient, relationship)
    _claim(world.patient)
    batch = export_batch(actor=world.users["billing"])
    assert f"PAT*{code}~" in batch.x12_text
    assert x12.validate(batch.x12_text) == []


def test_a_dependent_and_a_subscriber_in_one_batch_number_their_levels(world):
    profile(world.practice)
    _dependent(world.patient)
    cover(world.other_patient)
    _claim(world.patient)
    _claim(world.other_patient)
    batch = export_batch(actor=world.users["billing"])
    assert x12.validate(batch.x12_text) == []
    levels = [s for s in _segments(batch.x12_text) if s.startswith("HL*")]
    assert levels == ["HL*1**20*1~", "HL*2*1*22*1~", "HL*3*2*23*0~", "HL*4*1*22*0~"]


def test_a_dependent_without_the_policy_holders_name_is_not_exported(world):
    profile(world.practice)
    cov = _dependent(world.patient)
    Coverage.objects.filter(pk=cov.pk).update(subscriber_last_name="")
    claim = _claim(world.patient)
    assert claim.status == "attention"
    assert "the policy holder's name is missing" in " ".join(claim.attention)
    Claim.objects.filter(pk=claim.pk).update(status="ready")
    with pytest.raises(Conflict, match="add the policy holder's name"):
        export_batch(actor=world.users["billing"])


def test_the_patient_as_subscriber_file_is_unchanged(world):
    """The file for a patient who holds the policy, byte for byte as the exporter wrote it
    before dependents were coded (the golden file was written by that version)."""
    claim = _claim(world.patient)
    text = x12.build_837p(
        profile=profile(world.practice),
        claims=[Claim.objects.select_related("patient").get(pk=claim.pk)],
        coverage={world.patient.pk: cover(world.patient)},
        control=7,
        now=NOW,
    ).text
    assert x12.validate(text) == []
    assert re.sub(r"CLM\*BT\d{7}\*", "CLM*BT0000000*", text) == GOLDEN.read_text()
