"""Billing's insurance starts from the registration: the form is prefilled with what the front
desk registered (payer, member ID, group, subscriber, address), billing adds its own payer ID and
filing indicator, the page says where each value came from, and a later registration edit that
disagrees with the saved insurance is pointed out in a sentence."""

from __future__ import annotations

from html import unescape

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.claims.actions.generate import create_claim
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import Coverage
from bontrack.claims.registration import split_name

from .conftest import diagnose, profile, session

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"


def _register(patient, **over):  # type: ignore[no-untyped-def]
    values = {
        "address_line1": "42 Lakeview Drive",
        "address_line2": "Apt 3",
        "city": "Springfield",
        "state": "il",
        "postal_code": "62704-1234",
        "insurance_payer": "Aetna",
        "insurance_member_id": "AET12345678",
        "insurance_group": "G4455",
        "subscriber_name": "Ana Moreno",
        "subscriber_relationship": "parent",
        **over,
    }
    for k, v in values.items():
        setattr(patient, k, v)
    patient.save()
    return patient


def _claim(world):  # type: ignore[no-untyped-def]
    profile(world.practice)
    diagnose(world.patient, CD, "G24.3")
    return create_claim(session(world.patient, [(CD, "scalenes", "left", 60)], [100]), None)


def _form(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields}


def test_the_first_insurance_form_is_the_registration(world):
    _register(world.patient)
    claim = _claim(world)
    assert claim.status == ClaimStatus.NEEDS_ATTENTION
    assert claim.attention[-1].startswith("Billing has not checked this patient's insurance yet")
    client = world.client("billing")
    response = client.get(f"/claims/{claim.pk}/coverage/")
    assert response.status_code == 200
    values = _form(response)
    assert values["payer_name"] == "Aetna" and values["member_id"] == "AET12345678"
    assert values["group_number"] == "G4455" and values["subscriber_relationship"] == "parent"
    assert (values["subscriber_last_name"], values["subscriber_first_name"]) == ("Moreno", "Ana")
    assert (values["address"], values["address2"]) == ("42 Lakeview Drive", "Apt 3")
    assert (values["state"], values["zip_code"]) == ("IL", "627041234")
    assert not values["payer_id"]
    page = unescape(response.content.decode())
    assert "filled in from the patient's registration" in page
    assert page.count("From the registration.") == 11  # every prefilled field says so
    assert "Billing's own: the payer's electronic ID." in page
    assert AuditEvent.objects.filter(
        action="view", object_type="claims.coverage", patient_id=world.patient.pk
    ).exists()

    response = client.post(
        f"/claims/{claim.pk}/coverage/", {**values, "payer_id": "60054", "filing_indicator": "CI"}
    )
    assert response.status_code == 302
    cov = Coverage.objects.get(patient=world.patient)
    assert (cov.payer_id, cov.filing_indicator, cov.group_number) == ("60054", "CI", "G4455")
    assert cov.dependent and cov.subscriber_last_name == "Moreno"
    assert cov.registration["member_id"] == "AET12345678"
    event = AuditEvent.objects.get(action="create", object_type="claims.coverage")
    assert event.changes["payer_id"] == [None, "60054"]


def test_a_later_registration_edit_that_disagrees_is_pointed_out(world):
    _register(world.patient)
    claim = _claim(world)
    client = world.client("billing")
    values = _form(client.get(f"/claims/{claim.pk}/coverage/"))
    # Billing corrects the member ID from the card: a deliberate change, no warning.
    values.update(payer_id="60054", filing_indicator="CI", member_id="AET12345679")
    assert client.post(f"/claims/{claim.pk}/coverage/", values).status_code == 302
    page = unescape(client.get(f"/claims/{claim.pk}/coverage/").content.decode())
    assert "was changed after this insurance was saved" not in page
    assert "Changed by billing; the registration says “AET12345678”." in page
    # Then the front desk registers a new payer.
    _register(world.patient, insurance_payer="Cigna", insurance_member_id="CIG0001")
    warning = (
        "The registration's payer was changed after this insurance was saved: the registration "
        "now says “Cigna”, the insurance says “Aetna”."
    )
    page = unescape(client.get(f"/claims/{claim.pk}/coverage/").content.decode())
    assert warning in page and "now says “CIG0001”" in page
    assert warning in unescape(client.get(f"/claims/{claim.pk}/").content.decode())


def test_a_dependent_needs_the_policy_holders_name(world):
    _register(world.patient, subscriber_name="")
    claim = _claim(world)
    client = world.client("billing")
    values = _form(client.get(f"/claims/{claim.pk}/coverage/"))
    values.update(payer_id="60054", filing_indicator="CI")
    response = client.post(f"/claims/{claim.pk}/coverage/", values)
    assert response.status_code == 422
    assert "give the policy holder's last name" in unescape(response.content.decode())
    assert not Coverage.objects.filter(patient=world.patient).exists()


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("Ana Moreno", ("Moreno", "Ana")),
        ("Moreno, Ana Luisa", ("Moreno", "Ana Luisa")),
        ("Ana  Luisa  Moreno ", ("Moreno", "Ana Luisa")),
        ("Moreno", ("Moreno", "")),
        ("", ("", "")),
    ],
)
def test_a_registered_subscriber_name_is_split_into_last_and_first(typed, expected):
    assert split_name(typed) == expected
