"""Who may read the billing queue, a claim, its batches and reports, edit lines, export and record
the payer's answer, over every persona; a denial changes nothing and writes no change event."""

from __future__ import annotations

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.claims.actions.export import export_batch
from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import Claim, ClaimBatch, ClaimEdit, Coverage
from conftest import permission_matrix

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db

READ = permission_matrix(Perm.CLAIM_VIEW)
EDIT = permission_matrix(Perm.CLAIM_EDIT, ok=302)
EXPORT = permission_matrix(Perm.CLAIM_EXPORT, ok=302)
CD = "cervical_dystonia"


def _claim(world) -> Claim:
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, CD, "G24.3")
    s = session(world.patient, [(CD, "sternocleidomastoid", "left", 80)], [100])
    claim = create_claim(s, None)
    assert claim is not None and claim.status == ClaimStatus.READY
    return claim


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action__in=["view", "export"]).exclude(outcome="denied").count(),
        ClaimEdit.objects.count(),
        ClaimBatch.objects.count(),
        Claim.objects.exclude(status=ClaimStatus.READY).count(),
    )


@pytest.mark.parametrize("persona,expected", READ.items())
@pytest.mark.parametrize(
    "url", ["/claims/", "/claims/{pk}/", "/claims/batches/", "/claims/reports/"]
)
def test_reading(world, persona, expected, url):
    claim = _claim(world)
    response = world.client(persona).get(url.format(pk=claim.pk))
    # The queue, batches and reports are lists: a biller of another practice sees an empty one.
    assert response.status_code == expected
    if url == "/claims/{pk}/":
        viewed = AuditEvent.objects.filter(action="view", summary=f"Viewed claim {claim.pk}")
        assert viewed.exists() == (expected == 200)


@pytest.mark.parametrize("persona,expected", permission_matrix(Perm.CLAIM_EDIT).items())
def test_opening_the_insurance_page(world, persona, expected):
    claim = _claim(world)
    before = _changes()
    response = world.client(persona).get(f"/claims/{claim.pk}/coverage/")
    assert response.status_code == expected
    viewed = AuditEvent.objects.filter(action="view", object_type="claims.coverage")
    assert viewed.exists() == (expected == 200)
    assert _changes() == before


@pytest.mark.parametrize("persona,expected", EDIT.items())
def test_saving_the_insurance(world, persona, expected):
    claim = _claim(world)
    before = _changes()
    response = world.client(persona).post(
        f"/claims/{claim.pk}/coverage/",
        {
            "payer_name": "Aetna",
            "payer_id": "60054",
            "member_id": "NEW123",
            "filing_indicator": "CI",
            "subscriber_relationship": "self",
            "address": "14 Elm St",
            "city": "Springfield",
            "state": "IL",
            "zip_code": "62701",
        },
    )
    assert response.status_code == expected
    member = Coverage.objects.get(patient=claim.patient).member_id
    if expected == 302 and persona != "anonymous":
        assert member == "NEW123"
    else:
        assert member != "NEW123"
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", EDIT.items())
def test_editing_a_line(world, persona, expected):
    claim = _claim(world)
    line = claim.lines.get(code="64616")
    before = _changes()
    response = world.client(persona).post(
        f"/claims/{claim.pk}/lines/{line.pk}/",
        {
            "code": "64616",
            "modifiers": "RT",
            "units": "1",
            "icd10": ["G24.3"],
            "charge": "300.00",
            "reason": "The note says right side",
        },
    )
    assert response.status_code == expected
    line.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert line.modifiers == ["RT"] and line.edited
        edit = ClaimEdit.objects.get(line=line)
        assert (edit.field, edit.before, edit.after) == ("modifiers", "LT", "RT")
        row = AuditEvent.objects.get(action="update", object_id=str(claim.pk))
        assert row.changes["modifiers"] == ["LT", "RT"]
        assert row.changes["reason"] == [None, "The note says right side"]
    else:
        assert line.modifiers == ["LT"]
        assert _changes() == before


def test_an_edit_without_a_reason_is_refused_and_changes_nothing(world):
    claim = _claim(world)
    line = claim.lines.get(code="64616")
    before = _changes()
    response = world.client("billing").post(
        f"/claims/{claim.pk}/lines/{line.pk}/",
        {"code": "64616", "modifiers": "RT", "units": "1", "icd10": ["G24.3"], "charge": "300"},
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert _changes() == before


@pytest.mark.parametrize("persona,expected", EXPORT.items())
def test_exporting_a_batch(world, persona, expected):
    claim = _claim(world)
    before = _changes()
    response = world.client(persona).post("/claims/export/", {"clinic": "", "confirm": "yes"})
    # Staff of other clinics and practices lack the permission, or have nothing ready: never 200.
    if persona == "other_practice_staff" or persona == "other_clinic_staff":
        assert response.status_code == 403
    else:
        assert response.status_code == expected
    claim.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert claim.status == ClaimStatus.EXPORTED and claim.batch_id
    else:
        assert claim.status == ClaimStatus.READY
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", EXPORT.items())
def test_marking_denied(world, persona, expected):
    claim = _claim(world)
    export_batch(actor=world.users["billing"])
    before = _changes()
    response = world.client(persona).post(
        f"/claims/{claim.pk}/denied/", {"denial_reason": "CO-16: missing information"}
    )
    assert response.status_code == expected
    claim.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert claim.status == ClaimStatus.DENIED
        assert claim.denial_reason == "CO-16: missing information"
    else:
        assert claim.status == ClaimStatus.EXPORTED
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", EXPORT.items())
def test_marking_paid(world, persona, expected):
    claim = _claim(world)
    export_batch(actor=world.users["billing"])
    before = _changes()
    response = world.client(persona).post(f"/claims/{claim.pk}/paid/", {"paid_amount": "812.40"})
    assert response.status_code == expected
    claim.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert claim.status == ClaimStatus.PAID and str(claim.paid_amount) == "812.40"
        row = AuditEvent.objects.get(action="update", summary__startswith=f"Claim {claim.pk} paid")
        assert row.changes["status"] == [ClaimStatus.EXPORTED, ClaimStatus.PAID]
    else:
        assert claim.status == ClaimStatus.EXPORTED
        assert _changes() == before


def test_the_payer_answer_refuses_bad_input_and_claims_not_exported(world):
    claim = _claim(world)
    client = world.client("billing")
    # Not exported yet: a conflict, said in a sentence on the claim.
    response = client.post(f"/claims/{claim.pk}/paid/", {"paid_amount": "10"})
    assert response.status_code == 409
    assert "only an exported claim can be marked paid or denied" in response.content.decode()
    export_batch(actor=world.users["billing"])
    before = _changes()
    assert client.post(f"/claims/{claim.pk}/denied/", {"denial_reason": ""}).status_code == 422
    assert client.post(f"/claims/{claim.pk}/paid/", {"paid_amount": "-1"}).status_code == 422
    assert client.get(f"/claims/{claim.pk}/paid/").status_code == 405
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.EXPORTED and _changes() == before
