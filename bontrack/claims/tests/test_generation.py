"""Claims are generated at signing and co-signing (treatments' hook, same transaction), never for
a session awaiting co-signature; the backfill command fills the gaps; an amendment replaces the
claim it corrects."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from bontrack.audit.models import AuditEvent
from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import Claim
from bontrack.treatments.actions import cosign
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.tests.conftest import signed

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db


def test_a_physician_signature_produces_the_claim(world):
    profile(world.practice)
    cover(world.patient)
    s = signed(world.users["physician"], world.patient)
    assert s.status == SessionStatus.SIGNED
    claim = Claim.objects.get(session=s)
    assert [line.code for line in claim.lines.all()][:1] == ["64615"]
    assert claim.diagnoses == ["G43.709"]
    assert claim.status == ClaimStatus.READY, claim.attention
    assert AuditEvent.objects.filter(action="create", object_type="claims.claim").count() == 1


def test_awaiting_cosignature_is_not_claimable_until_cosigned(world):
    profile(world.practice)
    cover(world.patient)
    s = signed(world.users["nurse"], world.patient)
    assert s.status == SessionStatus.AWAITING_COSIGN
    assert not Claim.objects.filter(session=s).exists()
    call_command("claims_backfill")
    assert not Claim.objects.filter(session=s).exists()
    cosign.cosign_session(actor=world.users["physician"], session=s)
    assert Claim.objects.filter(session=s).count() == 1


def test_the_backfill_generates_missing_claims_once(world):
    diagnose(world.patient, "cervical_dystonia", "G24.3")
    s = session(world.patient, [("cervical_dystonia", "scalenes", "right", 50)], [100])
    call_command("claims_backfill")
    call_command("claims_backfill")
    claim = Claim.objects.get(session=s)
    # No insurance and no billing profile yet: the claim says what is missing, in sentences.
    assert claim.status == ClaimStatus.NEEDS_ATTENTION
    assert "No insurance on file for this patient: add the payer and member ID." in claim.attention
    assert any(a.startswith("No charge for 64616") for a in claim.attention)


def test_an_amendment_replaces_an_unexported_claim(world):
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, "cervical_dystonia", "G24.3")
    first = session(world.patient, [("cervical_dystonia", "scalenes", "right", 50)], [100])
    old = create_claim(first, None)
    second = session(
        world.patient, [("cervical_dystonia", "scalenes", "left", 50)], [100], amends=first
    )
    new = create_claim(second, None)
    old.refresh_from_db()
    assert old.status == ClaimStatus.SUPERSEDED
    assert new is not None and new.status == ClaimStatus.READY


CD_SITES = [
    ("cervical_dystonia", "sternocleidomastoid", "left", 40),
    ("cervical_dystonia", "splenius_capitis", "right", 60),
]


@pytest.mark.parametrize(
    "charted, expected, mixed",
    [
        (["", ""], "none", False),
        (["landmarks", "landmarks"], "none", False),
        (["emg", "emg"], "emg", False),
        (["ultrasound", ""], "ultrasound", False),
        (["ultrasound", "emg"], "emg", True),  # one guidance code per session: said in words
    ],
)
def test_the_claim_takes_its_guidance_from_the_charted_sites(world, charted, expected, mixed):
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, "cervical_dystonia", "G24.3")
    s = session(world.patient, CD_SITES, [100], guidance=charted)
    call_command("claims_backfill")
    claim = Claim.objects.get(session=s)
    assert claim.guidance == expected
    codes = [line.code for line in claim.lines.all()]
    assert ("95874" in codes) == (expected == "emg")
    said = [a for a in claim.attention if "more than one guidance method" in a]
    assert bool(said) == mixed
