"""An amendment corrects the vials: it may open another vial; signing it settles the vials again."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.inventory.models import Vial
from bontrack.treatments import facts
from bontrack.treatments.actions import amendments, charting
from bontrack.treatments.actions import signing as signing_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import TreatmentSession, VialUse
from conftest import permission_matrix

from .conftest import acknowledge_all, signed, stock

pytestmark = pytest.mark.django_db

CHART = permission_matrix(Perm.SESSION_CHART)
API_CHART = permission_matrix(Perm.SESSION_CHART, api=True)


def _original(world):
    performed = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    return signed(world.users["nurse"], world.patient, performed_at=performed)


def _amendment(world, original=None):
    original = original or _original(world)
    return amendments.amend_session(
        actor=world.users["nurse"], session=original, reason="A second vial was used"
    )


def _open(actor, session, vial):
    return vials_actions.open_vial(
        actor=actor,
        session=session,
        vial=vial,
        diluent_ml=Decimal("2"),
        reconstituted_at=session.performed_at - timedelta(minutes=10),
    )


def _units_given(session) -> Decimal:
    return sum((i.units for i in session.injections.all() if i.status == "done"), Decimal(0))


def _session_id(vial) -> int | None:
    """The session the vial was drawn into (its VialUse), None while in stock."""
    return VialUse.objects.filter(vial=vial).values_list("session_id", flat=True).first()


def _state() -> tuple:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        tuple(
            Vial.objects.order_by("id").values_list(
                "id", "status", "use__session_id", "use__units_used", "use__units_wasted"
            )
        ),
    )


def test_a_draft_amendment_opens_a_vial_without_touching_the_originals_record(world, nurse):
    # given a signed session with its vial settled, and a draft amendment of it
    original = _original(world)
    recorded = vials_actions.session_vials(original)[0]
    amendment = _amendment(world, original)
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    # when the nurse opens another vial on the amendment
    _open(nurse, amendment, extra)
    # then the vial belongs to the amendment, the amendment sees both, the original only its own
    extra.refresh_from_db()
    assert (extra.status, _session_id(extra), extra.patient_id) == (
        "reconstituted",
        amendment.pk,
        world.patient.pk,
    )
    assert [v.pk for v in vials_actions.session_vials(amendment)] == [recorded.pk, extra.pk]
    assert [v.pk for v in vials_actions.session_vials(original)] == [recorded.pk]
    recorded_now = VialUse.objects.get(pk=recorded.pk)
    assert (recorded_now.units_used, recorded_now.units_wasted) == (
        recorded.units_used,
        recorded.units_wasted,
    )
    assert AuditEvent.objects.filter(
        action="update", summary__startswith=f"Opened vial {extra.pk}"
    ).exists()


def test_signing_the_amendment_settles_every_vial_again_and_audits_before_and_after(world, nurse):
    # given a signed session (one 200 U vial) and an amendment adding sites and a 100 U vial
    original = _original(world)
    recorded = vials_actions.session_vials(original)[0]
    used_before, wasted_before = recorded.units_used, recorded.units_wasted
    amendment = _amendment(world, original)
    muscle = facts.ftp_limits()["muscles"][0]
    charting.add_injection(actor=nurse, session=amendment, muscle=muscle, side="left")
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    _open(nurse, amendment, extra)
    acknowledge_all(nurse, amendment)
    # when the amendment is signed
    signing_actions.sign_session(actor=nurse, session=amendment)
    # then use and waste come from the amendment's injections over all its vials
    given = _units_given(amendment)
    vials = vials_actions.session_vials(amendment)
    assert [v.status for v in vials] == ["used", "used"]
    assert sum(v.units_used for v in vials) == given
    assert sum(v.units_used + v.units_wasted for v in vials) == sum(
        Decimal(v.lot.size_units) for v in vials
    )
    first = next(v for v in vials if v.pk == recorded.pk)
    assert first.units_used == min(Decimal(first.lot.size_units), given)
    assert first.units_used > used_before
    # and the audit shows each changed vial before and after
    event = AuditEvent.objects.get(
        summary__startswith=f"Vial {recorded.pk} settled again by amendment {amendment.pk}"
    )
    assert event.changes["units_used"] == [str(used_before), str(first.units_used)]
    assert event.changes["units_wasted"] == [str(wasted_before), str(first.units_wasted)]
    added = AuditEvent.objects.get(
        summary__startswith=f"Vial {extra.pk} settled again by amendment {amendment.pk}"
    )
    assert added.changes["status"] == ["reconstituted", "used"]
    # and the original is superseded, its own record unchanged
    original.refresh_from_db()
    assert original.status == "amended"
    assert list(TreatmentSession.objects.current()) == [amendment]


def test_an_amendment_that_changes_nothing_in_the_vials_records_no_vial_change(world, nurse):
    # given an amendment that only corrects the note
    amendment = _amendment(world)
    charting.update_session(actor=nurse, session=amendment, note="Corrected note")
    acknowledge_all(nurse, amendment)
    before = _state()[1]
    # when it is signed
    signing_actions.sign_session(actor=nurse, session=amendment)
    # then the vials read as before and no vial audit row is written
    assert _state()[1] == before
    assert not AuditEvent.objects.filter(summary__contains="settled again").exists()


def test_an_amendment_of_an_amendment_keeps_every_vial_of_the_chain(world, nurse):
    # given a signed amendment that added a vial
    first = _amendment(world)
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    _open(nurse, first, extra)
    acknowledge_all(nurse, first)
    signing_actions.sign_session(actor=nurse, session=first)
    # when it is amended again and signed
    second = amendments.amend_session(actor=nurse, session=first, reason="Note typo")
    assert len(vials_actions.session_vials(second)) == 2
    acknowledge_all(nurse, second)
    signing_actions.sign_session(actor=nurse, session=second)
    # then the vials are still all there and consistent
    vials = vials_actions.session_vials(second)
    assert sum(v.units_used for v in vials) == _units_given(second)
    assert sum(v.units_used + v.units_wasted for v in vials) == sum(
        Decimal(v.lot.size_units) for v in vials
    )


def test_a_vial_used_for_another_patient_is_refused_and_nothing_changes(world, nurse):
    # given a vial already used on another patient's signed session
    other = PatientFactory(practice=world.practice, clinic=world.clinic)
    foreign = vials_actions.session_vials(signed(nurse, other))[0]
    amendment = _amendment(world)
    before = _state()
    # when the API is asked to open it on this patient's amendment
    response = world.client("nurse").post(
        f"/api/v1/treatments/sessions/{amendment.pk}/vials",
        data=json.dumps(
            {
                "vial_id": foreign.pk,
                "diluent_ml": "2",
                "reconstituted_at": (amendment.performed_at - timedelta(minutes=5)).isoformat(),
            }
        ),
        content_type="application/json",
    )
    # then 409 and nothing is written
    assert response.status_code == 409
    assert _state() == before


def test_the_api_opens_a_vial_on_an_amendment(world):
    # given a draft amendment and a vial in stock
    amendment = _amendment(world)
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    # when the vial endpoint is called for the amendment
    response = world.client("nurse").post(
        f"/api/v1/treatments/sessions/{amendment.pk}/vials",
        data=json.dumps(
            {
                "vial_id": extra.pk,
                "diluent_ml": "2",
                "reconstituted_at": (amendment.performed_at - timedelta(minutes=5)).isoformat(),
            }
        ),
        content_type="application/json",
    )
    # then the answer lists the recorded vial and the new one
    assert response.status_code == 200, response.content
    vials = response.json()["vials"]
    assert len(vials) == 2 and vials[-1]["id"] == extra.pk
    assert vials[-1]["status"] == "reconstituted"
    # and the list endpoint shows the same vials for the amendment
    listing = world.client("nurse").get(f"/api/v1/treatments/patients/{world.patient.pk}/sessions")
    row = next(r for r in listing.json()["items"] if r["id"] == amendment.pk)
    assert [v["id"] for v in row["vials"]] == [v["id"] for v in vials]


def _form_post(world, persona, amendment, vial):
    local = timezone.localtime(
        amendment.performed_at - timedelta(minutes=5), ZoneInfo(world.clinic.time_zone)
    )
    return world.client(persona).post(
        f"/treatments/sessions/{amendment.pk}/vials/",
        {
            "vial_id": vial.pk,
            "diluent_ml": "2",
            "reconstituted_at": local.strftime("%Y-%m-%dT%H:%M"),
        },
    )


def test_the_session_screen_offers_and_records_a_vial_on_an_amendment(world):
    # given a draft amendment and a vial in stock
    amendment = _amendment(world)
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    page = world.client("nurse").get(f"/treatments/sessions/{amendment.pk}/").content.decode()
    assert "Record vial" in page and "settled with the recorded ones" in page
    # when the vial form is posted
    response = _form_post(world, "nurse", amendment, extra)
    # then the workspace shows the added vial
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "Added by this amendment" in response.content.decode()
    extra.refresh_from_db()
    assert _session_id(extra) == amendment.pk


@pytest.mark.parametrize("persona,expected", CHART.items())
def test_opening_a_vial_on_an_amendment_from_the_screen(world, persona, expected):
    amendment = _amendment(world)
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    before = _state()
    response = _form_post(world, persona, amendment, extra)
    assert response.status_code == expected
    extra.refresh_from_db()
    assert (_session_id(extra) == amendment.pk) == (expected == 200)
    if expected != 200:
        assert _state() == before


@pytest.mark.parametrize("persona,expected", API_CHART.items())
def test_api_opening_a_vial_on_an_amendment(world, persona, expected):
    amendment = _amendment(world)
    extra = stock(world.clinic, size=100, vials=1, lot_number="AMD100")[0]
    before = _state()
    response = world.client(persona).post(
        f"/api/v1/treatments/sessions/{amendment.pk}/vials",
        data=json.dumps(
            {
                "vial_id": extra.pk,
                "diluent_ml": "2",
                "reconstituted_at": (amendment.performed_at - timedelta(minutes=5)).isoformat(),
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == expected
    extra.refresh_from_db()
    assert (_session_id(extra) == amendment.pk) == (expected == 200)
    if expected != 200:
        assert _state() == before
