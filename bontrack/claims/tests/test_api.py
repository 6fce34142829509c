"""The claims API over the permission matrix: list, read, edit a line with a reason, export a
batch and download its 837P, mark paid and denied; audited like the screens."""

from __future__ import annotations

import json

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.claims import x12
from bontrack.claims.actions.export import export_batch
from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import ClaimEdit
from conftest import permission_matrix

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db
READ = permission_matrix(Perm.CLAIM_VIEW, api=True)
EDIT = permission_matrix(Perm.CLAIM_EDIT, api=True)
EXPORT = permission_matrix(Perm.CLAIM_EXPORT, api=True, ok=201)
ANSWER = permission_matrix(Perm.CLAIM_EXPORT, api=True)
CD = "cervical_dystonia"


def _claim(world):
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, CD, "G24.3")
    return create_claim(session(world.patient, [(CD, "scalenes", "bilateral", 60)], [100]), None)


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("persona,expected", READ.items())
def test_reading_a_claim(world, persona, expected):
    claim = _claim(world)
    response = world.client(persona).get(f"/api/v1/claims/{claim.pk}")
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert [(x["code"], x["modifiers"]) for x in body["lines"]] == [
            ("64616", ["50"]),
            ("J0585", []),
            ("J0585", ["JW"]),
        ]
        assert body["lines"][1]["ndc"] == "00023114501" and body["lines"][1]["ndc_unit"] == "UN"
    assert AuditEvent.objects.filter(summary=f"Viewed claim {claim.pk} via API").exists() == (
        expected == 200
    )


@pytest.mark.parametrize("persona,expected", READ.items())
def test_listing_claims(world, persona, expected):
    claim = _claim(world)
    response = world.client(persona).get("/api/v1/claims/?state=ready")
    assert response.status_code == (
        200 if persona == "other_practice_staff" and expected == 404 else expected
    )
    if response.status_code == 200 and persona in ("billing", "clinic_admin"):
        assert [c["id"] for c in response.json()["items"]] == [claim.pk]
        assert response.json()["counts"]["ready"] == 1


@pytest.mark.parametrize("persona,expected", EDIT.items())
def test_editing_a_line(world, persona, expected):
    claim = _claim(world)
    line = claim.lines.get(code="J0585", modifiers=["JW"])
    response = _post(
        world.client(persona),
        f"/api/v1/claims/{claim.pk}/lines/{line.pk}",
        {"units": 35, "reason": "Waste corrected from the vial log"},
    )
    assert response.status_code == expected
    line.refresh_from_db()
    assert (str(line.units) == "35.00") == (expected == 200)
    assert ClaimEdit.objects.exists() == (expected == 200)


def test_an_edit_without_reason_is_422(world):
    claim = _claim(world)
    line = claim.lines.first()
    response = _post(
        world.client("billing"), f"/api/v1/claims/{claim.pk}/lines/{line.pk}", {"units": 2}
    )
    assert response.status_code == 422
    assert "reason" in json.dumps(response.json()["errors"])


@pytest.mark.parametrize("persona,expected", EXPORT.items())
def test_exporting_a_batch(world, persona, expected):
    claim = _claim(world)
    response = _post(world.client(persona), "/api/v1/claims/batches", {})
    if persona in ("other_clinic_staff", "other_practice_staff"):
        assert response.status_code == 403  # no claim permission anywhere
    else:
        assert response.status_code == expected
    claim.refresh_from_db()
    if response.status_code == 201:
        batch_id = response.json()["id"]
        assert response.json()["claim_ids"] == [claim.pk]
        download = world.client(persona).get(f"/api/v1/claims/batches/{batch_id}/837p")
        assert download.status_code == 200
        assert x12.validate(download.content.decode()) == []
    else:
        assert claim.status == ClaimStatus.READY


@pytest.mark.parametrize("persona,expected", ANSWER.items())
def test_marking_paid(world, persona, expected):
    claim = _claim(world)
    export_batch(actor=world.users["billing"])
    response = _post(
        world.client(persona), f"/api/v1/claims/{claim.pk}/paid", {"paid_amount": 410.5}
    )
    assert response.status_code == expected
    claim.refresh_from_db()
    assert (claim.status == ClaimStatus.PAID) == (expected == 200)


def test_denied_needs_a_reason_and_an_exported_claim(world):
    claim = _claim(world)
    client = world.client("billing")
    assert (
        _post(client, f"/api/v1/claims/{claim.pk}/denied", {"denial_reason": "x"}).status_code
        == 409
    )
    export_batch(actor=world.users["billing"])
    assert _post(client, f"/api/v1/claims/{claim.pk}/denied", {}).status_code == 422
    ok = _post(
        client,
        f"/api/v1/claims/{claim.pk}/denied",
        {"denial_reason": "CO-50: not medically necessary"},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "denied"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/claims/99999999999999999999999",
        "/api/v1/claims/?clinic_id=99999999999999999999",
        "/api/v1/claims/?clinic_id=-1",
        "/api/v1/claims/?state=x",
        "/api/v1/claims/?cursor=zz",
        "/api/v1/claims/batches/99999999999999999999/837p",
    ],
)
def test_bad_query_values_are_4xx_never_500(world, url):
    assert 400 <= world.client("billing").get(url).status_code < 500
