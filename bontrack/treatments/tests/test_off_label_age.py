"""Off-label age is a physician's call (issue 14 item 3, clinical facts §8).

Treatment outside a labelled age (chronic migraine: adults, ≥18, S15) is off-label, legal and
common: a warning that only a physician acknowledges, with a reason that says something. The
practice policy ``off_label_age`` may raise it to a block (a physician override, as for any
block). A child without a weight still blocks.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.core.models import ProgramPolicy
from bontrack.core.policy import facts as policy
from bontrack.diaries.actions import program_policy
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments.actions import dose_guard, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import FindingDecision, TreatmentSession
from clinic_rules.data import rule
from conftest import permission_matrix

from .conftest import acknowledge_all, chart

pytestmark = pytest.mark.django_db

RULE = "BTX-CM-AGE-18"  # clinical facts §8: chronic migraine, adults (≥18), S15
REASON = "Refractory chronic migraine since age 13; three preventives failed; parents consent."


def _teenager(world, *, weight: str | None = "52"):
    """A patient one year under the labelled chronic-migraine age, treated for chronic migraine."""
    today = timezone.localdate()
    years = rule(RULE).int_("min_age") - 1
    patient: Any = PatientFactory(
        clinic=world.clinic,
        date_of_birth=today.replace(year=today.year - years) - timedelta(days=30),
    )
    Condition.objects.create(patient=patient, indication="chronic_migraine", icd10_code="G43.709")
    if weight is not None:
        WeightMeasurement.objects.create(
            patient=patient, measured_on=today, weight_kg=Decimal(weight)
        )
    return patient


def _age_finding(session: TreatmentSession) -> dict:
    found = [
        f for f in findings_actions.current_findings(session)["findings"] if f["rule_id"] == RULE
    ]
    assert len(found) == 1, found
    return found[0]


def _changes() -> int:
    return AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()


def test_a_session_outside_the_labelled_age_is_charted_with_a_physician_warning(world, nurse):
    session = chart(nurse, _teenager(world))  # the guard lets it through: not a block
    finding = _age_finding(session)
    assert finding["severity"] == "warn"
    assert finding["ack_by"] == "physician"
    assert not [
        f
        for f in findings_actions.current_findings(session)["findings"]
        if f["severity"] == "block"
    ]


def test_a_nurse_cannot_acknowledge_it_and_nothing_is_written(world, nurse):
    session = chart(nurse, _teenager(world))
    before = _changes()
    with pytest.raises(PermissionDenied) as exc:
        findings_actions.decide_finding(actor=nurse, session=session, rule_id=RULE, reason=REASON)
    assert "physician" in str(exc.value)
    assert not FindingDecision.objects.filter(session=session).exists()
    assert _changes() == before


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("", "Write why"),
        ("   ", "Write why"),
        ("ok", "in your own words"),
        ("off-label!!!", "in your own words"),
        ("1234567890123456", "in your own words"),
        (RULE, "in your own words"),
        ("the label covers patients aged 18 and older", "in your own words"),
    ],
)
def test_a_physician_must_give_a_reason_that_says_something(world, physician, reason, words):
    session = chart(physician, _teenager(world))
    before = _changes()
    with pytest.raises(ValidationError) as exc:
        findings_actions.decide_finding(
            actor=physician, session=session, rule_id=RULE, reason=reason
        )
    assert any(words in m for m in exc.value.message_dict["reason"])
    assert not FindingDecision.objects.filter(session=session, rule_id=RULE).exists()
    assert _changes() == before


def test_the_physician_acknowledges_with_a_reason_and_the_nurse_may_then_sign(
    world, physician, nurse
):
    session = chart(nurse, _teenager(world))
    acknowledge_all_but_age(nurse, session)
    with pytest.raises(ValidationError) as exc:
        signing.sign_session(actor=nurse, session=session)
    assert any(
        "A physician must acknowledge this off-label treatment" in m
        for m in exc.value.message_dict["findings"]
    )
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"
    findings_actions.decide_finding(
        actor=physician, session=session, rule_id=RULE, reason=f"  {REASON}  "
    )
    decision = FindingDecision.objects.get(session=session, rule_id=RULE)
    assert (decision.kind, decision.reason, decision.decided_by) == (
        "acknowledge",
        REASON,
        physician,
    )
    event = AuditEvent.objects.get(summary=f"Acknowledged {RULE} on session {session.pk}")
    assert event.changes["reason"] == [None, REASON]
    signing.sign_session(actor=nurse, session=session)
    # The nurse acknowledged the other warnings herself: the session goes to the physician.
    assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"


def acknowledge_all_but_age(user, session: TreatmentSession) -> None:
    result = findings_actions.current_findings(session)
    for rule_id in sorted(
        {f["rule_id"] for f in result["findings"] if f["severity"] == "warn"} - {RULE}
    ):
        findings_actions.decide_finding(actor=user, session=session, rule_id=rule_id)


def test_an_acknowledgement_without_a_reason_does_not_cover_the_physician_warning(world, physician):
    session = chart(physician, _teenager(world))
    finding = _age_finding(session)
    bare = FindingDecision(
        session=session,
        rule_id=RULE,
        severity="warn",
        kind="acknowledge",
        message=findings_actions.warning_text([finding], RULE),
        reason="",
        decided_by=physician,
        decided_at=timezone.now(),
    )
    assert not findings_actions.decision_covers(bare, finding, [finding])
    bare.reason = REASON
    assert findings_actions.decision_covers(bare, finding, [finding])


def test_a_changed_off_label_warning_needs_the_physician_and_a_new_reason_again(
    world, physician, nurse
):
    session = chart(nurse, _teenager(world))
    # An acknowledgement of the warning as it once read (e.g. before the visit date was corrected).
    old = FindingDecision.objects.create(
        session=session,
        rule_id=RULE,
        severity="warn",
        kind="acknowledge",
        message="chronic_migraine: patient is 16 on the session date",
        reason="An older reason for an older reading.",
        decided_by=physician,
        decided_at=timezone.now(),
    )
    page = world.client("nurse").get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "a physician must acknowledge it again" in page
    with pytest.raises(PermissionDenied):
        findings_actions.decide_finding(actor=nurse, session=session, rule_id=RULE, reason=REASON)
    with pytest.raises(ValidationError):
        findings_actions.decide_finding(actor=physician, session=session, rule_id=RULE)
    findings_actions.decide_finding(actor=physician, session=session, rule_id=RULE, reason=REASON)
    old.refresh_from_db()
    assert old.reason == REASON
    assert old.message == findings_actions.warning_text([_age_finding(session)], RULE)
    event = AuditEvent.objects.get(summary__startswith=f"Acknowledged {RULE} again")
    assert event.changes["reason"] == ["An older reason for an older reading.", REASON]


def test_the_policy_knob_makes_it_a_block_that_needs_a_physician_override(world, physician, nurse):
    admin = world.users["clinic_admin"]
    program_policy.update_program_policy(
        actor=admin, practice=world.practice, off_label_age="block"
    )
    assert policy.policy_document(world.practice) == {"off_label_age": "block"}
    patient = _teenager(world)
    # The nurse's charting is refused (the vial opening runs the dose check): nothing is written.
    with pytest.raises(dose_guard.Blocked) as exc:
        chart(nurse, patient)
    assert [f["rule_id"] for f in exc.value.blocks] == [RULE]
    assert not TreatmentSession.objects.get(patient=patient).vial_uses.exists()
    TreatmentSession.objects.filter(patient=patient).delete()
    # The physician overrides it with a reason, as any block.
    from bontrack.treatments.actions import charting
    from bontrack.treatments.actions import vials as vials_actions

    from .conftest import stock

    session = charting.create_session(actor=physician, patient=patient)
    vials_actions.open_vial(
        actor=physician,
        session=session,
        vial=stock(world.clinic, vials=1, lot_number="OFFL01")[0],
        diluent_ml=Decimal("4"),
        reconstituted_at=timezone.now() - timedelta(minutes=20),
        override_reason=REASON,
    )
    assert _age_finding(session)["severity"] == "block"
    decision = FindingDecision.objects.get(session=session, rule_id=RULE)
    assert decision.kind == "override" and decision.decided_by == physician


def test_a_child_without_a_weight_is_still_blocked(world, nurse):
    patient = _teenager(world, weight=None)
    with pytest.raises(dose_guard.Blocked) as exc:
        chart(nurse, patient)
    assert "BTX-PEDS-WEIGHT-REQUIRED" in [f["rule_id"] for f in exc.value.blocks]


# ---- the screen -------------------------------------------------------------------------------


def test_the_physician_sees_the_reason_box_and_the_nurse_a_plain_sentence(world, nurse):
    session = chart(nurse, _teenager(world))
    url = f"/treatments/sessions/{session.pk}/"
    as_physician = world.client("physician").get(url).content.decode()
    assert "why treat this patient outside the labelled age?" in as_physician
    assert "Acknowledge as physician" in as_physician
    assert "A physician must acknowledge this off-label treatment." not in as_physician
    as_nurse = world.client("nurse").get(url).content.decode()
    assert "A physician must acknowledge this off-label treatment." in as_nurse
    assert "Acknowledge as physician" not in as_nurse


def test_the_physician_acknowledges_on_the_screen_and_a_bad_reason_is_a_plain_form_error(
    world, nurse, physician
):
    session = chart(nurse, _teenager(world))
    client = world.client("physician")
    url = f"/treatments/sessions/{session.pk}/decisions/"
    short = client.post(url, {"rule_id": RULE, "reason": "ok", "ack": "1"})
    assert short.status_code == 422
    assert "Say in your own words why this patient is treated outside the labelled age" in (
        short.content.decode()
    )
    assert not FindingDecision.objects.filter(session=session).exists()
    done = client.post(url, {"rule_id": RULE, "reason": REASON, "ack": "1"})
    assert done.status_code == 200
    assert FindingDecision.objects.get(session=session, rule_id=RULE).reason == REASON
    assert REASON in done.content.decode()


def test_the_api_shows_who_acknowledges_and_refuses_a_nurse(world, nurse):
    session = chart(nurse, _teenager(world))
    body = world.client("nurse").get(f"/api/v1/treatments/sessions/{session.pk}").json()
    age = [f for f in body["findings"] if f["rule_id"] == RULE]
    assert age and age[0]["ack_by"] == "physician" and age[0]["severity"] == "warn"
    before = _changes()
    response = world.client("nurse").post(
        f"/api/v1/treatments/sessions/{session.pk}/decisions",
        data=json.dumps({"rule_id": RULE, "reason": REASON}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not FindingDecision.objects.exists()
    assert _changes() == before


def test_the_policy_page_and_api_offer_the_knob(world):
    admin = world.client("clinic_admin")
    page = admin.get("/diaries/policy/").content.decode()
    assert 'name="off_label_age"' in page
    response = admin.post("/diaries/policy/", {"off_label_age": "block"})
    assert response.status_code == 302
    assert ProgramPolicy.objects.get().off_label_age == "block"
    event = AuditEvent.objects.get(object_type="diaries.programpolicy")
    assert event.changes["off_label_age"] == ["", "block"]
    api = admin.get("/api/v1/diaries/policy").json()
    assert api["off_label_age"] == "block" and api["effective"]["off_label_age"] == "block"
    bad = admin.put(
        "/api/v1/diaries/policy",
        json.dumps(dict.fromkeys(policy.FIELDS) | {"off_label_age": "info"}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "off_label_age" in bad.json()["errors"]
    assert ProgramPolicy.objects.get().off_label_age == "block"


def test_acknowledge_all_helper_still_needs_the_physician(world, nurse):
    """The shared test helper acknowledges warnings as the given user: a nurse cannot clear an
    off-label warning through it either."""
    session = chart(nurse, _teenager(world))
    with pytest.raises(PermissionDenied):
        acknowledge_all(nurse, session)


# ---- who may acknowledge an off-label warning (physician yes; nurse, front desk, billing, admin no)

UI = permission_matrix(Perm.SESSION_OVERRIDE_BLOCK)
API = permission_matrix(Perm.SESSION_OVERRIDE_BLOCK, ok=201, api=True)


def test_the_matrices_say_only_the_physician_may():
    for matrix, ok in ((UI, 200), (API, 201)):
        assert matrix["physician"] == ok
        for persona in ("nurse", "front_desk", "billing", "clinic_admin"):
            assert matrix[persona] == 403, persona


@pytest.mark.parametrize(("persona", "expected"), UI.items())
def test_who_acknowledges_an_off_label_warning_on_the_screen(world, nurse, persona, expected):
    session = chart(nurse, _teenager(world))
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/decisions/",
        {"rule_id": RULE, "reason": REASON, "ack": "1"},
    )
    assert response.status_code == expected
    decisions = FindingDecision.objects.filter(session=session, rule_id=RULE)
    if expected == 200:
        assert decisions.get().decided_by == world.users[persona]
    else:
        assert not decisions.exists()
        assert _changes() == before


@pytest.mark.parametrize(("persona", "expected"), API.items())
def test_who_acknowledges_an_off_label_warning_through_the_api(world, nurse, persona, expected):
    session = chart(nurse, _teenager(world))
    before = _changes()
    response = world.client(persona).post(
        f"/api/v1/treatments/sessions/{session.pk}/decisions",
        data=json.dumps({"rule_id": RULE, "reason": REASON}),
        content_type="application/json",
    )
    assert response.status_code == expected, response.content
    decisions = FindingDecision.objects.filter(session=session, rule_id=RULE)
    if expected == 201:
        assert decisions.get().reason == REASON
    else:
        assert not decisions.exists()
        assert _changes() == before
