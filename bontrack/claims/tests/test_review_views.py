"""The review screen's forms: insurance clears the reason after a refresh, the guidance refresh
adds the EMG line, accepting needs a reason; every change is kept with its reason."""

from __future__ import annotations

import pytest

from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import ClaimEdit, Coverage

from .conftest import diagnose, profile, session

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"
COVERAGE = {
    "payer_name": "Aetna",
    "payer_id": "60054",
    "member_id": "W123456789",
    "filing_indicator": "CI",
    "address": "14 Elm St",
    "city": "Springfield",
    "state": "IL",
    "zip_code": "62701",
}


def test_insurance_refresh_and_accept(world):
    profile(world.practice)
    diagnose(world.patient, CD, "G24.3")
    claim = create_claim(session(world.patient, [(CD, "scalenes", "bilateral", 60)], [100]), None)
    assert claim.status == ClaimStatus.NEEDS_ATTENTION
    client = world.client("billing")
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "No insurance on file for this patient: add the payer and member ID." in page
    assert (
        client.post(f"/claims/{claim.pk}/coverage/", {**COVERAGE, "zip_code": "6"}).status_code
        == 422
    )
    assert client.post(f"/claims/{claim.pk}/coverage/", COVERAGE).status_code == 302
    assert Coverage.objects.get(patient=world.patient).member_id == "W123456789"
    assert client.post(f"/claims/{claim.pk}/refresh/", {"guidance": "emg"}).status_code == 422
    response = client.post(
        f"/claims/{claim.pk}/refresh/", {"guidance": "emg", "reason": "EMG documented in the note"}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.READY and claim.guidance == "emg"
    assert [x.code for x in claim.lines.all()] == ["64616", "95874", "J0585", "J0585"]
    edit = ClaimEdit.objects.get(claim=claim, field="lines")
    assert edit.reason == "EMG documented in the note" and "95874" in edit.after
    # Accepting is for claims that need attention only.
    assert client.post(f"/claims/{claim.pk}/accept/", {"reason": "ok"}).status_code == 422
    # The administrator reads the claim but has no review forms.
    admin_page = world.client("clinic_admin").get(f"/claims/{claim.pk}/").content.decode()
    assert "Refresh lines" not in admin_page and "95874" in admin_page
