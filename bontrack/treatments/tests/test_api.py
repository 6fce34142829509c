"""The treatments API runs the same services: create, edit, refuse a block, override, sign, amend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.treatments.models import TreatmentSession

from .conftest import stock

pytestmark = pytest.mark.django_db


def _post(client, url, body=None, method="post"):
    return getattr(client, method)(
        url, data=json.dumps(body or {}), content_type="application/json"
    )


def test_a_session_is_charted_and_signed_through_the_api(world):
    nurse, physician = world.client("nurse"), world.client("physician")
    vial = stock(world.clinic, vials=3)[0]
    performed = timezone.now().replace(microsecond=0)
    r = _post(
        nurse,
        f"/api/v1/treatments/patients/{world.patient.pk}/sessions",
        {"performed_at": performed.isoformat()},
    )
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    r = _post(
        nurse,
        f"/api/v1/treatments/sessions/{sid}/vials",
        {
            "vial_id": vial.pk,
            "diluent_ml": "4",
            "reconstituted_at": (performed - timedelta(minutes=20)).isoformat(),
        },
    )
    assert r.status_code == 200, r.content
    site = r.json()["injections"][30]["id"]
    r = _post(
        nurse, f"/api/v1/treatments/sessions/{sid}/injections/{site}", {"units": "300"}, "patch"
    )
    assert r.status_code == 422
    assert "BTX-CUM-ADULT-400" in r.json()["errors"]["rule_id"]  # the code for machines
    assert any(m.startswith("Total for the 84 days") for m in r.json()["errors"]["findings"])
    r = _post(
        physician,
        f"/api/v1/treatments/sessions/{sid}/injections/{site}",
        {"units": "5", "status": "skipped"},
        "patch",
    )
    assert r.status_code == 200
    for f in r.json()["findings"]:
        if f["severity"] == "warn":
            assert (
                _post(
                    nurse, f"/api/v1/treatments/sessions/{sid}/decisions", {"rule_id": f["rule_id"]}
                ).status_code
                == 201
            )
    r = _post(nurse, f"/api/v1/treatments/sessions/{sid}/sign")
    assert r.status_code == 422 and "consent_obtained" in r.json()["errors"]
    assert (
        _post(
            nurse, f"/api/v1/treatments/sessions/{sid}", {"consent_obtained": True}, "patch"
        ).status_code
        == 200
    )
    r = _post(nurse, f"/api/v1/treatments/sessions/{sid}/sign")
    assert r.status_code == 200, r.content
    body = r.json()
    # A nurse's signature without a physician's order awaits a co-signature; it is given.
    assert body["status"] == "awaiting" and body["next_due"]
    assert any(r["kind"] == "indication" for r in body["cosign_reasons"])
    assert (
        _post(nurse, f"/api/v1/treatments/sessions/{sid}", {"note": "x"}, "patch").status_code
        == 409
    )
    r = _post(nurse, f"/api/v1/treatments/sessions/{sid}/amendments", {"reason": "Typo"})
    assert r.status_code == 201 and r.json()["amends_id"] == sid
    assert TreatmentSession.objects.count() == 2


def test_unknown_fields_and_bad_values_are_refused(world):
    nurse = world.client("nurse")
    r = _post(nurse, f"/api/v1/treatments/patients/{world.patient.pk}/sessions", {"when": "now"})
    assert r.status_code == 422
    r = _post(
        nurse,
        f"/api/v1/treatments/patients/{world.patient.pk}/sessions",
        {"performed_at": "2026-01-01T10:00:00"},
    )
    assert r.status_code == 422  # naive date-times are refused
    assert not TreatmentSession.objects.exists()
