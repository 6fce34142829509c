"""Outcome scales per indication, the cycle review and adjustment suggestions (issue 10 items 6-8)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.audit import READ_ACTIONS
from bontrack.audit.models import AuditEvent
from bontrack.inventory.models import Lot
from bontrack.ops.demo.scales import BLEPH_LINES, CD_LINES, given_session
from bontrack.patients.models import Condition
from bontrack.treatments import scale_selectors
from bontrack.treatments.actions import cycle_review, follow_up, scales
from bontrack.treatments.choices import AdverseEffectKind, Reporter
from bontrack.treatments.facts import scales as facts
from bontrack.treatments.models import (
    AdjustmentSuggestion,
    AdverseEffect,
    ResponseReview,
    ScaleEntry,
    TreatmentPlan,
    WearingOff,
)
from clinic_rules import contract
from conftest import PERSONAS, permission_matrix

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"
# Recalculating suggestions writes rows: the physicians who decide them.
RECALCULATE = permission_matrix(Perm.RESPONSE_REVIEW, ok=302)


def _lot(world):
    return Lot.objects.create(
        practice=world.practice,
        ndc="0023-3921-02",
        lot_number="S100",
        expiry=timezone.localdate() + timedelta(days=300),
        size_units=200,
    )


def _session(world, days_ago: int, lines=CD_LINES, indication=CD):
    zone = zoneinfo.ZoneInfo(world.clinic.time_zone)
    day = timezone.localdate() - timedelta(days=days_ago)
    lot = Lot.objects.filter(practice=world.practice).first() or _lot(world)
    return given_session(
        patient=world.patient,
        indication=indication,
        performed_at=datetime.combine(day, time(10), tzinfo=zone),
        lines=lines,
        doctor=world.users["physician"],
        lot=lot,
    )


def _entry(world, instrument, answers, days_ago, indication=CD, actor="physician"):
    return scales.record_scale_entry(
        actor=world.users[actor],
        patient=world.patient,
        indication=indication,
        instrument=instrument,
        taken_on=timezone.localdate() - timedelta(days=days_ago),
        answers=answers,
    )


@pytest.fixture
def cd(world):
    Condition.objects.create(patient=world.patient, indication=CD, icd10_code="G24.3")
    return world


# ---- entry ------------------------------------------------------------------------------------


def test_staff_enter_twstrs_scored_by_clinic_rules_and_audited(cd):
    url = f"/treatments/patients/{cd.patient.pk}/scales/{CD}/enter/twstrs/"
    client = cd.client("nurse")
    assert client.get(url).status_code == 200
    r = client.post(
        url,
        {
            "taken_on": timezone.localdate().isoformat(),
            "severity": 20,
            "disability": 15,
            "pain": 10,
        },
    )
    assert r.status_code == 302
    entry = ScaleEntry.objects.get(patient=cd.patient)
    expected = contract.run(
        "questionnaire",
        {"instrument": "twstrs", "answers": {"severity": 20, "disability": 15, "pain": 10}},
    )
    assert entry.score == Decimal(expected["score"]) == Decimal(45)
    assert entry.result["subscales"] == {"severity": 20, "disability": 15, "pain": 10}
    assert not entry.entered_by_patient
    assert AuditEvent.objects.filter(action="create", object_type="treatments.scaleentry").exists()


def test_out_of_range_rating_is_a_form_error_and_nothing_is_written(cd):
    url = f"/treatments/patients/{cd.patient.pk}/scales/{CD}/enter/twstrs/"
    r = cd.client("nurse").post(url, {"taken_on": timezone.localdate().isoformat(), "severity": 36})
    assert r.status_code == 422
    assert not ScaleEntry.objects.exists()


def test_mas_per_muscle_with_one_plus_and_gas_advisory(cd):
    Condition.objects.create(
        patient=cd.patient, indication="upper_limb_spasticity", icd10_code="I69.351"
    )
    base = f"/treatments/patients/{cd.patient.pk}/scales/upper_limb_spasticity/enter/"
    client = cd.client("physician")
    today = timezone.localdate().isoformat()
    r = client.post(
        base + "mas/",
        {
            "taken_on": today,
            "mas_0_muscle": "biceps_brachii",
            "mas_0_side": "left",
            "mas_0_grade": "1+",
            "mas_1_muscle": "brachialis",
            "mas_1_side": "left",
            "mas_1_grade": "2",
        },
    )
    assert r.status_code == 302
    mas = ScaleEntry.objects.get(instrument="mas")
    assert mas.result["subscales"]["biceps_brachii:left"]["grade"] == "1+"
    assert mas.result["subscales"]["biceps_brachii:left"]["position"] == 2
    r = client.post(
        base + "gas/",
        {"taken_on": today, "gas_0_goal": "Dress alone", "gas_0_weight": 1, "gas_0_level": "2"},
    )
    assert r.status_code == 302
    gas = ScaleEntry.objects.get(instrument="gas")
    assert gas.score == Decimal("70.0") and gas.result["confirmed"] is False
    page = client.get(f"/treatments/patients/{cd.patient.pk}/scales/upper_limb_spasticity/")
    assert "advisory" in page.content.decode()


def test_front_desk_cannot_enter_and_other_clinic_gets_404(cd):
    url = f"/treatments/patients/{cd.patient.pk}/scales/{CD}/enter/tsui/"
    assert cd.client("front_desk").get(url).status_code == 403
    assert cd.client("other_clinic_staff").get(url).status_code == 404
    assert (
        cd.client("physician")
        .get(f"/treatments/patients/{cd.patient.pk}/scales/{CD}/enter/bdi/")
        .status_code
        == 404
    )


# ---- portal -------------------------------------------------------------------------------------


def test_patient_reports_twstrs_disability_and_pain_in_the_portal(cd):
    client = cd.client("patient")
    listing = client.get("/portal/scales/")
    assert listing.status_code == 200 and "TWSTRS" in listing.content.decode()
    url = f"/portal/scales/{CD}/twstrs/"
    page = client.get(url).content.decode()
    # The disability part is asked as its six items (the fact sheet lists them), pain as its
    # total (the sheet gives no pain items); severity is the clinician's.
    items, top = facts.twstrs_disability_items()
    assert len(items) == 6 and top == 5
    assert all(f'name="disability_{i}"' in page for i in items)
    assert 'name="disability"' not in page and 'name="severity"' not in page
    assert 'name="pain"' in page
    answers = dict(zip(items, (3, 2, 4, 1, 0, 2), strict=True))
    r = client.post(
        url,
        {
            "taken_on": timezone.localdate().isoformat(),
            **{f"disability_{k}": v for k, v in answers.items()},
            "pain": 8,
            "severity": 30,
            "disability": 30,
        },
    )
    assert r.status_code == 302
    entry = ScaleEntry.objects.get(patient=cd.patient)
    assert entry.entered_by_patient and entry.score is None
    expected = contract.run(
        "questionnaire",
        {"instrument": "twstrs", "answers": {"disability_items": answers, "pain": 8}},
    )
    assert entry.result["subscales"] == expected["subscales"] == {"disability": 12, "pain": 8}
    assert entry.result["disability_items"] == answers
    # A clinician-rated scale is not offered to the patient.
    assert client.get(f"/portal/scales/{CD}/tsui/").status_code == 404
    # The other patient has no cervical dystonia.
    assert cd.client("other_patient").get(url).status_code == 404


def test_the_portal_disability_items_go_together_and_pain_alone_is_fine(cd):
    client = cd.client("patient")
    url = f"/portal/scales/{CD}/twstrs/"
    today = timezone.localdate().isoformat()
    items, top = facts.twstrs_disability_items()
    # Some items answered, not all: a form error on each missing one, nothing written.
    r = client.post(url, {"taken_on": today, f"disability_{items[0]}": 2})
    assert r.status_code == 422
    assert "the six questions go together" in r.content.decode()
    # Above the item's range: refused.
    r = client.post(url, {"taken_on": today, **{f"disability_{i}": top + 1 for i in items}})
    assert r.status_code == 422
    assert not ScaleEntry.objects.exists()
    # Pain alone (the items left blank) is a valid answer: disability is not rated.
    assert client.post(url, {"taken_on": today, "pain": 5}).status_code == 302
    assert ScaleEntry.objects.get().result["subscales"] == {"pain": 5}


def test_patient_reports_when_the_effect_wore_off(cd):
    session = _session(cd, 80)
    client = cd.client("patient")
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    r = client.post(f"/portal/scales/sessions/{session.pk}/wearing-off/", {"worn_off_on": day})
    assert r.status_code == 302
    row = WearingOff.objects.get(session=session)
    assert row.reported_by_patient and row.worn_off_on.isoformat() == day
    # Before the session: refused, nothing changed.
    early = (timezone.localdate() - timedelta(days=90)).isoformat()
    client.post(f"/portal/scales/sessions/{session.pk}/wearing-off/", {"worn_off_on": early})
    row.refresh_from_db()
    assert row.worn_off_on.isoformat() == day
    assert (
        cd.client("other_patient")
        .post(f"/portal/scales/sessions/{session.pk}/wearing-off/", {"worn_off_on": day})
        .status_code
        == 404
    )


# ---- review -----------------------------------------------------------------------------------


def _two_cycles(world):
    s1 = _session(world, 170)
    s2 = _session(world, 84)
    _entry(world, "twstrs", {"severity": 24, "disability": 18, "pain": 12}, 175)
    _entry(world, "twstrs", {"severity": 17, "disability": 13, "pain": 9}, 135)
    _entry(world, "twstrs", {"severity": 14, "disability": 10, "pain": 7}, 49)
    WearingOff.objects.create(
        session=s1,
        patient=world.patient,
        worn_off_on=timezone.localdate() - timedelta(days=100),
        recorded_at=timezone.now(),
    )
    AdverseEffect.objects.create(
        patient=world.patient,
        session=s2,
        kind=AdverseEffectKind.DYSPHAGIA,
        reported_at=timezone.now() - timedelta(days=78),
        reported_by=Reporter.PATIENT,
    )
    return s1, s2


def test_review_figures_equal_clinic_rules_figures(cd):
    s1, s2 = _two_cycles(cd)
    r = cd.client("physician").get(f"/treatments/patients/{cd.patient.pk}/scales/{CD}/review/")
    assert r.status_code == 200
    page = r.content.decode()
    expected = contract.run(
        "cycle-review",
        {
            "indication": CD,
            "as_of": timezone.localdate().isoformat(),
            "sessions": [
                {
                    "date": timezone.localtime(s1.performed_at).date().isoformat(),
                    "wearing_off": (timezone.localdate() - timedelta(days=100)).isoformat(),
                },
                {
                    "date": timezone.localtime(s2.performed_at).date().isoformat(),
                    "adverse_effects": ["dysphagia"],
                },
            ],
            "entries": [
                {
                    "date": e.taken_on.isoformat(),
                    "questionnaire": {"instrument": "twstrs", "answers": e.answers},
                }
                for e in ScaleEntry.objects.all()
            ],
        },
    )
    total = next(m for m in expected["measures"] if m["measure"] == "score")
    assert [c["change"] for c in total["cycles"]] == [-15.0, -23.0]
    for c in total["cycles"]:
        assert f"({c['change']:+g})" in page
    assert f"{expected['cycles'][0]['effect_days']} days" in page
    assert "Trouble swallowing" in page
    # The adverse effect was written without an action: opening the page stored nothing; the
    # physician's "Recalculate suggestions" stores the last cycle's suggestion.
    assert not AdjustmentSuggestion.objects.exists()
    assert "Recalculate suggestions" in page
    client = cd.client("physician")
    r = client.post(f"/treatments/patients/{cd.patient.pk}/scales/{CD}/suggestions/recalculate/")
    assert r.status_code == 302
    s = AdjustmentSuggestion.objects.get(patient=cd.patient)
    assert s.rule_id == "SUGGEST-CD-DYSPHAGIA-SCM" and s.session_id == s2.pk
    assert [(a["side"], a["units"]) for a in s.adjustments] == [("left", 50.0), ("right", 50.0)]
    page = client.get(r.url).content.decode()
    assert s.note in page and "S24b" in page
    assert "1 new suggestion for the last cycle." in page


def _review_get_writes(world, persona: str = "physician") -> tuple[int, int, int]:
    """(suggestion rows, audit rows other than reads, read rows) after a GET of the review page."""
    r = world.client(persona).get(f"/treatments/patients/{world.patient.pk}/scales/{CD}/review/")
    assert r.status_code == 200
    return (
        AdjustmentSuggestion.objects.count(),
        AuditEvent.objects.exclude(action__in=READ_ACTIONS).count(),
        AuditEvent.objects.filter(action="view", summary__contains="cycle review").count(),
    )


def test_opening_the_review_page_writes_only_its_read_event(cd):
    """Item 8: a GET reads; the suggestion is stored by the action that changed its inputs."""
    _two_cycles(cd)
    first = _review_get_writes(cd)
    second = _review_get_writes(cd)
    assert first[:2] == second[:2] == (0, first[1])
    assert second[2] == first[2] + 1 == 2
    # Recording the adverse effect through its action stores the suggestion, in its transaction.
    s2 = scale_selectors.given_sessions(cd.patient, CD)[-1]
    AdverseEffect.objects.all().delete()
    follow_up.record_adverse_effect(
        actor=cd.users["nurse"], session=s2, kind=AdverseEffectKind.DYSPHAGIA
    )
    s = AdjustmentSuggestion.objects.get()
    assert s.rule_id == "SUGGEST-CD-DYSPHAGIA-SCM" and s.session_id == s2.pk
    assert AuditEvent.objects.filter(
        object_type="treatments.adjustmentsuggestion", action="create", object_id=str(s.pk)
    ).exists()
    # Opening the page again adds no row and no change event.
    changes = AuditEvent.objects.exclude(action__in=READ_ACTIONS).count()
    assert _review_get_writes(cd)[:2] == (1, changes)


def test_saving_a_qualifying_rating_stores_the_suggestion(world):
    """A Jankovic change smaller than the meaningful one after the cycle: saved by staff."""
    Condition.objects.create(patient=world.patient, indication="blepharospasm", icd10_code="G24.5")
    _entry(world, "jankovic", {"severity": 3, "frequency": 4}, 45, indication="blepharospasm")
    _session(world, 40, lines=BLEPH_LINES, indication="blepharospasm")
    assert not AdjustmentSuggestion.objects.exists()
    url = f"/treatments/patients/{world.patient.pk}/scales/blepharospasm/enter/jankovic/"
    r = world.client("nurse").post(
        url, {"taken_on": timezone.localdate().isoformat(), "severity": 3, "frequency": 3}
    )
    assert r.status_code == 302
    sug = AdjustmentSuggestion.objects.get()
    assert sug.rule_id == "SUGGEST-BLEPH-SMALL-CHANGE" and sug.status == "open"
    # A second rating of the same cycle does not store the rule twice.
    _entry(world, "jankovic", {"severity": 3, "frequency": 3}, 0, indication="blepharospasm")
    assert AdjustmentSuggestion.objects.count() == 1


def test_the_patient_reporting_a_short_effect_stores_the_suggestion(world):
    Condition.objects.create(patient=world.patient, indication="blepharospasm", icd10_code="G24.5")
    s = _session(world, 70, lines=BLEPH_LINES, indication="blepharospasm")
    day = (timezone.localtime(s.performed_at).date() + timedelta(days=50)).isoformat()
    r = world.client("patient").post(
        f"/portal/scales/sessions/{s.pk}/wearing-off/", {"worn_off_on": day}
    )
    assert r.status_code == 302
    sug = AdjustmentSuggestion.objects.get()
    assert sug.rule_id == "SUGGEST-BLEPH-SHORT-EFFECT" and sug.session_id == s.pk


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_who_may_recalculate_suggestions(cd, persona):
    _two_cycles(cd)
    before = AuditEvent.objects.exclude(action__in=READ_ACTIONS).exclude(outcome="denied").count()
    url = f"/treatments/patients/{cd.patient.pk}/scales/{CD}/suggestions/recalculate/"
    response = cd.client(persona).post(url)
    assert response.status_code == RECALCULATE[persona], persona
    if RECALCULATE[persona] == 302 and persona != "anonymous":
        assert AdjustmentSuggestion.objects.count() == 1
    else:
        assert not AdjustmentSuggestion.objects.exists()
        after = AuditEvent.objects.exclude(action__in=READ_ACTIONS).exclude(outcome="denied")
        assert after.count() == before
    # A GET is not a recalculation.
    if persona == "physician":
        assert cd.client(persona).get(url).status_code == 405


def test_accepting_a_suggestion_makes_the_next_plan_and_is_audited(cd):
    _two_cycles(cd)
    cycle_review.refresh_suggestions(actor=cd.users["physician"], patient=cd.patient, indication=CD)
    s = AdjustmentSuggestion.objects.get()
    # A nurse sees it but cannot decide.
    assert (
        cd.client("nurse")
        .post(f"/treatments/suggestions/{s.pk}/decide/", {"decision": "accept"})
        .status_code
        == 403
    )
    r = cd.client("physician").post(
        f"/treatments/suggestions/{s.pk}/decide/", {"decision": "accept", "note": "Agreed."}
    )
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.status == "accepted" and s.plan_id is not None
    plan = TreatmentPlan.objects.get(patient=cd.patient, indication=CD, active=True)
    scm = {ln.side: ln.units for ln in plan.lines.all() if ln.muscle == "sternocleidomastoid"}
    assert scm == {"left": Decimal(50), "right": Decimal(50)}
    assert {ln.muscle for ln in plan.lines.all()} >= {"splenius_capitis", "levator_scapulae"}
    assert AuditEvent.objects.filter(
        object_type="treatments.adjustmentsuggestion", action="update"
    ).exists()
    # Decided once.
    r = cd.client("physician").post(
        f"/treatments/suggestions/{s.pk}/decide/", {"decision": "reject", "note": "x"}
    )
    s.refresh_from_db()
    assert s.status == "accepted"


def test_rejecting_needs_a_note_and_changes_no_plan(cd):
    _two_cycles(cd)
    cycle_review.refresh_suggestions(actor=cd.users["physician"], patient=cd.patient, indication=CD)
    s = AdjustmentSuggestion.objects.get()
    client = cd.client("physician")
    client.post(f"/treatments/suggestions/{s.pk}/decide/", {"decision": "reject"})
    s.refresh_from_db()
    assert s.status == "open"
    client.post(
        f"/treatments/suggestions/{s.pk}/decide/",
        {"decision": "reject", "note": "Swallowing trouble came from a cold."},
    )
    s.refresh_from_db()
    assert s.status == "rejected" and s.plan_id is None
    assert not TreatmentPlan.objects.filter(patient=cd.patient, indication=CD).exists()
    # Refreshing again does not bring a decided suggestion back.
    assert (
        cycle_review.refresh_suggestions(
            actor=cd.users["physician"], patient=cd.patient, indication=CD
        )
        == []
    )


def test_continue_carries_accepted_adjustments_and_review_adjustments(cd):
    _two_cycles(cd)
    cycle_review.refresh_suggestions(actor=cd.users["physician"], patient=cd.patient, indication=CD)
    cycle_review.decide_suggestion(
        actor=cd.users["physician"], suggestion=AdjustmentSuggestion.objects.get(), accept=True
    )
    url = f"/treatments/patients/{cd.patient.pk}/scales/{CD}/review/"
    r = cd.client("physician").post(
        url,
        {
            "decision": "continue",
            "reason": "Better on every subscale.",
            "adj_0_muscle": "splenius_capitis",
            "adj_0_side": "right",
            "adj_0_sites": 2,
            "adj_0_units": "70",
        },
    )
    assert r.status_code == 302
    review = ResponseReview.objects.get(patient=cd.patient, indication=CD)
    assert review.decision == "continue" and review.cycles == 2
    plan = TreatmentPlan.objects.get(patient=cd.patient, indication=CD, active=True)
    assert plan.review_id == review.pk
    lines = {(ln.muscle, ln.side): ln.units for ln in plan.lines.all()}
    assert lines[("splenius_capitis", "right")] == Decimal(70)
    assert lines[("sternocleidomastoid", "left")] == Decimal(50)


def test_stop_needs_reasons_and_the_review_waits_for_two_cycles(cd):
    _session(cd, 60)
    url = f"/treatments/patients/{cd.patient.pk}/scales/{CD}/review/"
    r = cd.client("physician").post(url, {"decision": "continue", "reason": "x"})
    assert r.status_code == 422
    assert not ResponseReview.objects.exists()
    _session(cd, 5)
    r = cd.client("physician").post(url, {"decision": "stop"})
    assert r.status_code == 422
    assert cd.client("nurse").post(url, {"decision": "continue"}).status_code == 403


def test_blepharospasm_short_effect_suggests_up_to_double_per_site(world):
    Condition.objects.create(patient=world.patient, indication="blepharospasm", icd10_code="G24.5")
    s = _session(world, 70, lines=BLEPH_LINES, indication="blepharospasm")
    scales.record_wearing_off(
        actor=world.users["nurse"],
        session=s,
        worn_off_on=timezone.localtime(s.performed_at).date() + timedelta(days=50),
    )
    cycle_review.refresh_suggestions(
        actor=world.users["physician"], patient=world.patient, indication="blepharospasm"
    )
    sug = AdjustmentSuggestion.objects.get()
    assert sug.rule_id == "SUGGEST-BLEPH-SHORT-EFFECT" and sug.confirmed
    assert {a["units"] for a in sug.adjustments} == {5.0}


# ---- the scales page ---------------------------------------------------------------------------


def test_scales_page_shows_due_scales_trend_and_table(cd):
    _session(cd, 30)
    _entry(cd, "twstrs", {"severity": 20, "disability": 15, "pain": 10}, 33)
    r = cd.client("nurse").get(f"/treatments/patients/{cd.patient.pk}/scales/{CD}/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "Review after session 1" in page and "Due" in page
    assert 'id="chart-scale-twstrs"' in page or "scale-twstrs" in page
    assert "Show as table" in page
    assert AuditEvent.objects.filter(action="view", summary__contains="outcome scales").exists()


def _scales_queries(world) -> int:
    client = world.client("physician")
    url = f"/treatments/patients/{world.patient.pk}/scales/{CD}/"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_scales_page_query_count_does_not_grow_with_cycles(cd):
    _session(cd, 200)
    _entry(
        cd,
        "tsui",
        dict.fromkeys(
            ("rotation", "tilt", "antero_retrocollis", "duration", "shoulder_elevation", "tremor"),
            1,
        ),
        205,
    )
    small = _scales_queries(cd)
    for days in (120, 40):
        _session(cd, days)
        _entry(
            cd,
            "tsui",
            dict.fromkeys(
                (
                    "rotation",
                    "tilt",
                    "antero_retrocollis",
                    "duration",
                    "shoulder_elevation",
                    "tremor",
                ),
                1,
            ),
            days + 3,
        )
        _entry(cd, "twstrs", {"severity": 10, "disability": 10, "pain": 5}, days - 30)
    assert _scales_queries(cd) == small


def test_gas_goals_and_mas_muscles_carry_over_to_the_next_rating(cd):
    Condition.objects.create(
        patient=cd.patient, indication="upper_limb_spasticity", icd10_code="I69.351"
    )
    _entry(
        cd,
        "gas",
        {"goals": [{"goal": "Button a shirt", "weight": 2, "level": -1}]},
        40,
        indication="upper_limb_spasticity",
    )
    base = f"/treatments/patients/{cd.patient.pk}/scales/upper_limb_spasticity/enter/"
    page = cd.client("nurse").get(base + "gas/").content.decode()
    assert 'value="Button a shirt"' in page


def _review_queries(world) -> int:
    client = world.client("physician")
    url = f"/treatments/patients/{world.patient.pk}/scales/{CD}/review/"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_review_page_query_count_does_not_grow_with_cycles(cd):
    _two_cycles(cd)
    small = _review_queries(cd)
    for days in (40, 10):
        _session(cd, days)
        _entry(cd, "twstrs", {"severity": 10, "disability": 10, "pain": 5}, days - 5)
    assert _review_queries(cd) == small


def _portal_queries(world) -> int:
    client = world.client("patient")
    client.get("/portal/scales/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/portal/scales/").status_code == 200
    return len(ctx.captured_queries)


def test_portal_scales_query_count_does_not_grow(cd):
    _session(cd, 100)
    small = _portal_queries(cd)
    Condition.objects.create(patient=cd.patient, indication="blepharospasm", icd10_code="G24.5")
    _session(cd, 60, lines=BLEPH_LINES, indication="blepharospasm")
    _session(cd, 10)
    _entry(cd, "twstrs", {"disability": 10, "pain": 5}, 5)
    assert _portal_queries(cd) == small


def test_signing_a_session_stores_the_suggestion_of_its_cycle(world):
    """A blepharospasm session charted late: its review rating already shows a small change, so
    signing it (the new last cycle) stores the suggestion in the signing transaction."""
    from bontrack.treatments.actions import charting, signing
    from bontrack.treatments.actions import vials as vials_actions

    from .conftest import acknowledge_all, stock

    bleph = "blepharospasm"
    Condition.objects.create(patient=world.patient, indication=bleph, icd10_code="G24.5")
    nurse, physician = world.users["nurse"], world.users["physician"]
    performed = timezone.now() - timedelta(days=40)
    _entry(world, "jankovic", {"severity": 3, "frequency": 4}, 45, indication=bleph)
    session = charting.create_session(
        actor=nurse, patient=world.patient, indications=[bleph], performed_at=performed
    )
    _entry(world, "jankovic", {"severity": 3, "frequency": 3}, 5, indication=bleph)
    # Before the signature the session is not a cycle: nothing to suggest.
    assert not AdjustmentSuggestion.objects.exists()
    vials_actions.open_vial(
        actor=nurse,
        session=session,
        vial=stock(world.clinic, vials=1, lot_number="B0001")[0],
        diluent_ml=Decimal("4"),
        reconstituted_at=performed - timedelta(minutes=30),
    )
    charting.update_session(
        actor=nurse, session=session, consent_obtained=True, medication_guide_offered=True
    )
    acknowledge_all(physician, session)
    signing.sign_session(actor=physician, session=session)
    sug = AdjustmentSuggestion.objects.get()
    assert sug.rule_id == "SUGGEST-BLEPH-SMALL-CHANGE" and sug.session_id == session.pk
