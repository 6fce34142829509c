"""Orders and co-signature (issue 14 item 4): a physician's signed plan is the order; a nurse's
signature off the order, with a warning the nurse acknowledged, or without an order awaits a
physician's co-signature; the physician co-signs (or amends); until then the session is given
(dose windows, recall) but not claimable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.core.errors import Conflict
from bontrack.scheduling import facts as scheduling_facts
from bontrack.treatments import facts
from bontrack.treatments.actions import amendments, charting, cosign, orders, plans, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import TreatmentPlan, TreatmentSession
from conftest import permission_matrix

from .conftest import acknowledge_all, chart

pytestmark = pytest.mark.django_db


def _ordered(world):
    """The physician's plan (PREEMPT, 155 U in 31 sites) for the patient: the order."""
    return plans.create_plan(actor=world.users["physician"], patient=world.patient)


def _site(session, muscle, side, n=0):
    return list(session.injections.filter(muscle=muscle, side=side).order_by("position"))[n]


def _sign_as_nurse(world, session, *, physician_acks=True):
    """Warnings acknowledged (by the physician unless told otherwise), then the nurse signs."""
    acknowledge_all(world.users["physician" if physician_acks else "nurse"], session)
    return signing.sign_session(actor=world.users["nurse"], session=session)


def _no_changes():
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        TreatmentSession.objects.filter(status="signed").count(),
        TreatmentSession.objects.filter(cosigned_by__isnull=False).count(),
    )


# ---- orders ------------------------------------------------------------------------------------


def test_a_physicians_plan_is_the_order_and_a_nurses_plan_is_a_draft_until_signed(world):
    plan = _ordered(world)
    assert plan.ordered_by == world.users["physician"] and plan.ordered_at is not None
    nurse_plan = plans.create_plan(actor=world.users["nurse"], patient=world.patient)
    assert nurse_plan.ordered_at is None and not nurse_plan.is_ordered
    with pytest.raises(PermissionDenied):
        orders.sign_plan(actor=world.users["nurse"], plan=nurse_plan)
    orders.sign_plan(actor=world.users["physician"], plan=nurse_plan)
    nurse_plan.refresh_from_db()
    assert nurse_plan.ordered_by == world.users["physician"]
    assert AuditEvent.objects.filter(
        object_id=str(nurse_plan.pk), summary__contains="it is the order"
    ).exists()
    with pytest.raises(Conflict):
        orders.sign_plan(actor=world.users["physician"], plan=nurse_plan)


def test_the_plan_sign_form_needs_its_confirmation_and_a_physician(world):
    plan = plans.create_plan(actor=world.users["nurse"], patient=world.patient)
    url = f"/treatments/plans/{plan.pk}/sign/"
    assert world.client("nurse").post(url, {"confirm": "yes"}).status_code == 403
    world.client("physician").post(url)  # no confirmation ticked: nothing signed
    assert not TreatmentPlan.objects.get(pk=plan.pk).is_ordered
    assert world.client("physician").post(url, {"confirm": "yes"}).status_code == 302
    assert TreatmentPlan.objects.get(pk=plan.pk).is_ordered


# ---- routing at signature ------------------------------------------------------------------------


def test_a_nurse_who_charts_within_the_order_signs_a_final_session(world):
    _ordered(world)
    session = chart(world.users["nurse"], world.patient)
    signed = _sign_as_nurse(world, session)
    assert signed.status == "signed" and signed.cosign_reasons == []
    assert TreatmentSession.objects.claimable().filter(pk=session.pk).exists()


def _units(session):
    charting.update_injection(
        actor=session.created_by, injection=_site(session, "corrugator", "left"), units=Decimal(10)
    )


def _skip_muscle(session):
    charting.update_injection(
        actor=session.created_by,
        injection=_site(session, "procerus", "midline"),
        status="skipped",
    )


def _side(session):
    # The order (see _order_left_corrugator_only) has the left corrugator only.
    charting.update_injection(
        actor=session.created_by,
        injection=_site(session, "corrugator", "left"),
        status="skipped",
    )
    charting.add_injection(
        actor=session.created_by,
        session=session,
        indication="chronic_migraine",
        muscle="corrugator",
        side="right",
        units=Decimal(5),
    )


def _sites(session):
    # Two of the left frontalis' sites given as one site of 10 U: units equal, one site fewer.
    charting.update_injection(
        actor=session.created_by, injection=_site(session, "frontalis", "left"), units=Decimal(10)
    )
    charting.update_injection(
        actor=session.created_by,
        injection=_site(session, "frontalis", "left", 1),
        status="skipped",
    )


@pytest.mark.parametrize(
    "change,kind,message",
    [
        (_units, "units", "Left corrugator: 10 U charted, 5 U ordered."),
        (_skip_muscle, "muscle", "Procerus: 5 U ordered, none charted."),
        (
            _side,
            "side",
            "Right corrugator: 5 U charted on the right; the order is for the left side.",
        ),
        (_sites, "sites", "Left frontalis: 1 site charted, 2 ordered."),
    ],
)
def test_each_deviation_from_the_order_routes_the_nurses_signature(world, change, kind, message):
    plan = _ordered(world)
    if change is _side:  # an order for one side: the physician left out the right corrugator
        plan.lines.filter(muscle="corrugator", side="right").delete()
    session = chart(world.users["nurse"], world.patient)
    change(session)
    signed = _sign_as_nurse(world, session)
    assert signed.status == "awaiting"
    assert {"kind": kind, "message": message} in signed.cosign_reasons
    audit = AuditEvent.objects.get(object_id=str(session.pk), summary__startswith="Signed session")
    assert "awaiting" in audit.summary and audit.changes["status"] == ["draft", "awaiting"]


def test_no_order_for_the_indication_routes_the_nurses_signature(world):
    session = chart(world.users["nurse"], world.patient)  # no plan: the PREEMPT template
    signed = _sign_as_nurse(world, session)
    assert signed.status == "awaiting"
    assert signed.cosign_reasons == [
        {
            "kind": "indication",
            "message": "Chronic migraine: no physician's order for this indication.",
        }
    ] or any(r["kind"] == "indication" for r in signed.cosign_reasons)


def test_a_draft_plan_saved_by_a_nurse_is_no_order(world):
    plans.create_plan(actor=world.users["nurse"], patient=world.patient)
    session = chart(world.users["nurse"], world.patient)
    signed = _sign_as_nurse(world, session)
    assert signed.status == "awaiting"
    assert [r["kind"] for r in signed.cosign_reasons] == ["indication"]


def test_a_warning_the_nurse_acknowledged_routes_the_signature_even_within_the_order(world):
    _ordered(world)
    session = chart(world.users["nurse"], world.patient)
    warnings = [
        f for f in findings_actions.current_findings(session)["findings"] if f["severity"] == "warn"
    ]
    if not warnings:  # make one: a PREEMPT muscle short of its sites warns
        charting.update_injection(
            actor=world.users["nurse"],
            injection=_site(session, "frontalis", "left"),
            status="skipped",
        )
    signed = _sign_as_nurse(world, session, physician_acks=False)
    assert signed.status == "awaiting"
    assert any(
        r["kind"] == "warning" and r["message"].startswith("Warning acknowledged by the nurse:")
        for r in signed.cosign_reasons
    )


def test_a_physician_who_signs_their_own_session_needs_no_co_signature(world):
    physician = world.users["physician"]
    session = chart(physician, world.patient)  # no order, and a deviation
    charting.update_injection(
        actor=physician, injection=_site(session, "corrugator", "left"), units=Decimal(10)
    )
    acknowledge_all(physician, session)
    signed = signing.sign_session(actor=physician, session=session)
    assert signed.status == "signed" and signed.cosign_reasons == []


# ---- co-signing ----------------------------------------------------------------------------------


def _awaiting(world):
    session = chart(world.users["nurse"], world.patient)
    return _sign_as_nurse(world, session)


def test_a_session_awaiting_co_signature_is_given_but_not_claimable(world):
    session = _awaiting(world)
    assert session.status == "awaiting"
    assert TreatmentSession.objects.current().filter(pk=session.pk).exists()
    assert not TreatmentSession.objects.claimable().filter(pk=session.pk).exists()
    # Dose windows and recall count the treatment given.
    assert list(facts.history_documents(world.patient, exclude=[]))
    assert scheduling_facts.last_signed_session(world.patient.pk, "chronic_migraine") is not None
    cosign.cosign_session(actor=world.users["physician"], session=session)
    session.refresh_from_db()
    assert session.status == "signed" and session.cosigned_by == world.users["physician"]
    assert TreatmentSession.objects.claimable().filter(pk=session.pk).exists()
    row = AuditEvent.objects.get(object_id=str(session.pk), summary__startswith="Co-signed")
    assert row.changes["status"] == ["awaiting", "signed"]


def test_only_a_session_awaiting_co_signature_can_be_co_signed(world):
    session = _awaiting(world)
    cosign.cosign_session(actor=world.users["physician"], session=session)
    with pytest.raises(Conflict):
        cosign.cosign_session(actor=world.users["physician"], session=session)


def test_the_physician_can_amend_instead_and_the_amendment_replaces_it(world):
    session = _awaiting(world)
    physician = world.users["physician"]
    amendment = amendments.amend_session(actor=physician, session=session, reason="Units were 5")
    charting.update_injection(
        actor=physician, injection=_site(amendment, "corrugator", "left"), units=Decimal(5)
    )
    with pytest.raises(Conflict):  # an open amendment: co-sign is refused, sign the amendment
        cosign.cosign_session(actor=physician, session=session)
    acknowledge_all(physician, amendment)
    signed = signing.sign_session(actor=physician, session=amendment)
    session.refresh_from_db()
    assert signed.status == "signed" and session.status == "amended"


def test_the_database_refuses_changes_to_a_session_awaiting_co_signature(world):
    session = _awaiting(world)
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentSession.objects.filter(pk=session.pk).update(note="changed")
    with pytest.raises(DatabaseError), transaction.atomic():  # signed without a co-signer
        TreatmentSession.objects.filter(pk=session.pk).update(status="signed")
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentSession.objects.filter(pk=session.pk).update(cosign_reasons=[])
    assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"


COSIGN_UI = permission_matrix(Perm.SESSION_COSIGN, ok=302)
COSIGN_API = permission_matrix(Perm.SESSION_COSIGN, api=True)


@pytest.mark.parametrize("persona,expected", COSIGN_UI.items())
def test_who_may_co_sign_on_screen(world, persona, expected):
    session = _awaiting(world)
    before = _no_changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/cosign/", {"confirm": "yes"}
    )
    assert response.status_code == expected
    session.refresh_from_db()
    assert (session.status == "signed") == (persona == "physician")
    if persona != "physician":
        assert _no_changes() == before


@pytest.mark.parametrize("persona,expected", COSIGN_API.items())
def test_who_may_co_sign_through_the_api(world, persona, expected):
    session = _awaiting(world)
    before = _no_changes()
    response = world.client(persona).post(f"/api/v1/treatments/sessions/{session.pk}/cosign")
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["status"] == "signed" and body["cosigned_by_id"] == world.users[persona].pk
    else:
        assert _no_changes() == before
        assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"


def test_the_co_sign_screen_asks_for_confirmation_first(world):
    session = _awaiting(world)
    client = world.client("physician")
    page = client.get(f"/treatments/sessions/{session.pk}/cosign/").content.decode()
    assert "Yes, co-sign the session" in page and "no physician&#x27;s order" in page
    before = _no_changes()
    assert client.post(f"/treatments/sessions/{session.pk}/cosign/").status_code == 200
    assert _no_changes() == before
    assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"


def test_signing_asks_for_confirmation_and_says_where_the_session_goes(world):
    session = chart(world.users["nurse"], world.patient)
    acknowledge_all(world.users["physician"], session)
    client = world.client("nurse")
    before = _no_changes()
    response = client.post(f"/treatments/sessions/{session.pk}/sign/")
    page = response.content.decode()
    assert response.status_code == 200 and "Yes, sign the session" in page
    assert "It will go to a physician for co-signature" in page
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"
    assert _no_changes() == before
    client.post(f"/treatments/sessions/{session.pk}/sign/", {"confirm": "yes"})
    assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"
    shown = client.get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "awaiting a physician's co-signature" in shown
    note = client.get(f"/treatments/sessions/{session.pk}/note/").content.decode()
    assert "Awaiting co-signature" in note
    api = client.get(f"/api/v1/treatments/sessions/{session.pk}").json()
    assert api["status"] == "awaiting" and api["status_label"] == "Awaiting co-signature"


# ---- override reasons --------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["ok", "  short   ", "Needs it"])
def test_an_override_reason_too_short_is_refused(world, reason):
    session = chart(world.users["physician"], world.patient)
    with pytest.raises(ValidationError) as exc:
        charting.update_injection(
            actor=world.users["physician"],
            injection=_site(session, "trapezius", "right"),
            units=Decimal(300),
            override_reason=reason,
        )
    assert "at least 10 characters" in exc.value.message_dict["override_reason"][0]
    assert not session.decisions.exists()


def test_an_override_reason_that_repeats_the_finding_is_refused(world):
    from bontrack.treatments.actions.dose_guard import Blocked

    physician = world.users["physician"]
    session = chart(physician, world.patient)
    site = _site(session, "trapezius", "right")
    with pytest.raises(Blocked) as blocked:
        charting.update_injection(actor=physician, injection=site, units=Decimal(300))
    message = blocked.value.blocks[0]["message"]
    with pytest.raises(ValidationError) as exc:
        charting.update_injection(
            actor=physician,
            injection=site,
            units=Decimal(300),
            override_reason="  " + message.upper() + " ",
        )
    assert "your own words" in exc.value.message_dict["override_reason"][0]
    assert not session.decisions.exists()
