"""Exporting a batch: the 837P passes pyx12 with zero errors (and the validator does catch a broken
file), the CSV and superbill carry the lines, the claims move to exported; paid and denied."""

from __future__ import annotations

import subprocess
from decimal import Decimal

import pytest

from bontrack.claims import x12
from bontrack.claims.actions import payer
from bontrack.claims.actions.export import export_batch
from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus
from bontrack.core.errors import Conflict

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"


def _claims(world):
    profile(world.practice)
    cover(world.patient)
    cover(world.other_patient)
    diagnose(world.patient, CD, "G24.3")
    diagnose(world.other_patient, "blepharospasm", "G24.5")
    a = create_claim(
        session(
            world.patient,
            [(CD, "sternocleidomastoid", "bilateral", 80), (CD, "splenius_capitis", "left", 75)],
            [200],
        ),
        None,
    )
    b = create_claim(
        session(
            world.other_patient,
            [("blepharospasm", "orbicularis_oculi_pretarsal_upper_medial", "left", 2.5)],
            [100],
        ),
        None,
    )
    return a, b


def test_the_batch_is_a_valid_837p_with_every_line(world):
    a, b = _claims(world)
    batch = export_batch(actor=world.users["billing"])
    assert batch.claim_count == 2
    assert x12.validate(batch.x12_text) == []
    text = batch.x12_text
    assert "ST*837*0001*005010X222A1~" in text
    assert f"CLM*{a.number}*" in text and f"CLM*{b.number}*" in text
    assert "HI*ABK:G243~" in text and "HI*ABK:G245~" in text
    assert "SV1*HC:64616:50*300*UN*1***1~" in text
    assert "SV1*HC:J0585*" in text and "SV1*HC:J0585:JW*" in text
    assert "LIN**N4*00023392102~" in text and "CTP****155*UN~" in text
    assert "LIN**N4*00023114501~" in text and "CTP****97.5*UN~" in text
    for c in (a, b):
        c.refresh_from_db()
        assert c.status == ClaimStatus.EXPORTED and c.batch_id == batch.pk
    rows = batch.csv_text.splitlines()
    assert rows[0].startswith("Claim,Clinic,MRN")
    assert len(rows) == 1 + a.lines.count() + b.lines.count()
    with pytest.raises(Conflict):
        export_batch(actor=world.users["billing"])  # nothing ready any more


def test_the_validator_catches_a_broken_file(world):
    _claims(world)
    batch = export_batch(actor=world.users["billing"])
    broken = batch.x12_text.replace("CLM*", "CLX*", 1)
    assert x12.validate(broken)
    no_se = "\n".join(s for s in batch.x12_text.splitlines() if not s.startswith("SE*"))
    assert x12.validate(no_se)


def test_downloads_and_superbill_pdf(world, tmp_path):
    a, _b = _claims(world)
    batch = export_batch(actor=world.users["billing"])
    client = world.client("billing")
    x = client.get(f"/claims/batches/{batch.pk}/837p.x12")
    assert x.status_code == 200 and x.content.decode() == batch.x12_text
    c = client.get(f"/claims/batches/{batch.pk}/claims.csv")
    assert c.status_code == 200 and c.content.decode() == batch.csv_text
    p = client.get(f"/claims/batches/{batch.pk}/superbill.pdf")
    assert p.status_code == 200 and p.content.startswith(b"%PDF")
    path = tmp_path / "s.pdf"
    path.write_bytes(p.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert f"Superbill - claim {a.number}" in text
    assert "G24.3" in text and "64616" in text and "00023-3921-02" in text
    assert "155 U given, 45 U discarded" in text


def test_paid_and_denied(world):
    a, b = _claims(world)
    export_batch(actor=world.users["billing"])
    payer.mark_paid(actor=world.users["billing"], claim=a, amount=Decimal("812.40"))
    payer.mark_denied(actor=world.users["billing"], claim=b, reason="CO-197: no authorization")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.paid_amount) == (ClaimStatus.PAID, Decimal("812.40"))
    assert (b.status, b.denial_reason) == (ClaimStatus.DENIED, "CO-197: no authorization")
    with pytest.raises(Conflict):
        payer.mark_paid(actor=world.users["billing"], claim=b)
