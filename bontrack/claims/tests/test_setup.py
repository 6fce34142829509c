"""The billing profile: only a practice-wide clinic administrator keeps it; the NPI check digit,
digits and the fee schedule are checked; the change is audited."""

from __future__ import annotations

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.claims.models import BillingProfile
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
SETUP = permission_matrix(Perm.CLAIM_SETUP, ok=302)
FORM = {
    "name": "Practice A Neurology",
    "npi": "1234567893",
    "tax_id": "361234567",
    "address": "1 Main St",
    "city": "Springfield",
    "state": "il",
    "zip_code": "627011234",
    "phone": "5552011000",
    "contact": "Henry Wu",
    "submitter_id": "PRACTICEA",
    "receiver_name": "Clearinghouse",
    "receiver_id": "CLEAR01",
    "usage": "T",
    "fees": "64616 300\nj0585 6.5\n",
}


@pytest.mark.parametrize("persona,expected", SETUP.items())
def test_saving_the_billing_profile(world, persona, expected):
    response = world.client(persona).post("/claims/setup/", FORM)
    assert response.status_code == expected
    saved = BillingProfile.objects.filter(practice=world.practice).first()
    if persona == "clinic_admin":
        assert saved is not None and saved.state == "IL"
        assert saved.fees == {"64616": "300.00", "J0585": "6.50"}
        assert AuditEvent.objects.filter(action="create", summary="Billing profile saved").exists()
    else:
        assert saved is None


def test_a_wrong_npi_or_fee_line_is_refused(world):
    client = world.client("clinic_admin")
    bad = client.post("/claims/setup/", {**FORM, "npi": "1234567890"})
    assert bad.status_code == 422 and "not a valid NPI" in bad.content.decode()
    bad = client.post("/claims/setup/", {**FORM, "fees": "64616 three hundred"})
    assert bad.status_code == 422 and "Line 1:" in bad.content.decode()
    assert not BillingProfile.objects.exists()
    assert client.get("/claims/setup/").status_code == 200
