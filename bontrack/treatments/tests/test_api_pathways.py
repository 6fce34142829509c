"""The pathway data of every indication through the API (issue 10): plans with U/kg for a child,
scale scores per scale and cycle, cycle figures, reviews, suggestions, consultations per
indication, clinic-defined protocols; and the writes that call the screens' actions."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import consultation as consultation_actions
from bontrack.factories import PatientFactory
from bontrack.ops.demo.scales import LLS_CHILD_LINES
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments.actions import clinic_protocols, cycle_review
from bontrack.treatments.models import (
    AdjustmentSuggestion,
    ResponseReview,
    ScaleEntry,
    TreatmentPlan,
)
from conftest import PERSONAS, permission_matrix

from .test_scales import CD, _entry, _session, _two_cycles

pytestmark = pytest.mark.django_db
API = "/api/v1/treatments"


def _post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _changes():
    """Change rows (reads and refusals excluded): a refused write leaves none."""
    return AuditEvent.objects.exclude(action__in=["view", "access"]).count()


def _views(patient):
    return AuditEvent.objects.filter(action="view", patient_id=patient.pk).count()


@pytest.fixture
def cd(world):
    Condition.objects.create(patient=world.patient, indication=CD, icd10_code="G24.3")
    return world


def _nurse_plan(world, patient, indication):
    """A next plan saved by a nurse: a draft until a physician signs it (no order)."""
    with transaction.atomic():
        return cycle_review.next_plan(
            actor=world.users["nurse"],
            patient=patient,
            indication=indication,
            adjustments=[],
            note="From the last session.",
        )


@pytest.fixture
def child(world):
    """A 9-year-old with lower-limb spasticity, 20 kg measured last week, one given session."""
    today = timezone.localdate()
    kid = PatientFactory(
        clinic=world.clinic, date_of_birth=date(today.year - 9, 1, 15), mrn="A1-0009"
    )
    Condition.objects.create(patient=kid, indication="lower_limb_spasticity", icd10_code="G80.1")
    WeightMeasurement.objects.create(
        patient=kid, measured_on=today - timedelta(days=7), weight_kg=Decimal("20")
    )
    world.patient, adult = kid, world.patient
    _session(world, 40, lines=LLS_CHILD_LINES, indication="lower_limb_spasticity")
    world.patient = adult
    return kid


# ---- the permission tables of every new operation -----------------------------------------------


READS = [
    "/patients/{pid}/plans",
    "/patients/{pid}/scale-entries",
    f"/patients/{{pid}}/scales/{CD}",
    "/patients/{pid}/reviews",
    "/patients/{pid}/suggestions",
]


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_patient_reads_follow_the_session_view_matrix(cd, path, persona):
    expected = permission_matrix(Perm.SESSION_VIEW, api=True)[persona]
    response = cd.client(persona).get(API + path.format(pid=cd.patient.pk))
    assert response.status_code == expected, response.content
    if expected != 200:
        assert _views(cd.patient) == 0


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_consultations_per_indication_follow_the_diary_view_matrix(cd, persona):
    expected = permission_matrix(Perm.DIARY_VIEW, api=True)[persona]
    url = f"/api/v1/diaries/patients/{cd.patient.pk}/consultations/{CD}"
    assert cd.client(persona).get(url).status_code == expected


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_clinic_protocols_follow_the_session_view_matrix(world, persona):
    # A list of one's own clinics' protocols: staff of another clinic or practice read theirs.
    expected = permission_matrix(
        Perm.SESSION_VIEW, api=True, other_clinic_staff=200, other_practice_staff=200
    )[persona]
    assert world.client(persona).get(f"{API}/clinic-protocols").status_code == expected


# ---- plans ----------------------------------------------------------------------------------------


def test_plans_of_every_indication_show_units_per_kg_for_a_child(world, child):
    _nurse_plan(world, child, "lower_limb_spasticity")
    client = world.client("billing")
    r = client.get(f"{API}/patients/{child.pk}/plans?active=true")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["weight"]["pediatric"] and body["weight"]["current"]
    assert Decimal(body["weight"]["kg"]) == 20
    (plan,) = body["items"]
    assert plan["indication"] == "lower_limb_spasticity" and not plan["ordered"]
    assert plan["indication_label"] and not plan["off_label"]
    rows = {(ln["muscle"], ln["side"]): ln for ln in plan["lines"]}
    assert set(rows) == {(m, s) for m, s, _, _ in LLS_CHILD_LINES}
    for m, s, sites, units in LLS_CHILD_LINES:
        assert rows[(m, s)]["sites"] == sites
        assert Decimal(rows[(m, s)]["units"]) == units
        assert Decimal(rows[(m, s)]["per_kg"]) == (Decimal(units) / 20).quantize(Decimal("0.01"))
        assert rows[(m, s)]["muscle_label"] != m
    assert Decimal(plan["total_units"]) == 80 and Decimal(plan["total_per_kg"]) == 4
    assert _views(child) == 1


def test_an_adults_plan_has_no_per_kg_and_plans_page_by_cursor(cd):
    _session(cd, 30)
    for _ in range(3):
        _nurse_plan(cd, cd.patient, CD)
    client = cd.client("nurse")
    r = client.get(f"{API}/patients/{cd.patient.pk}/plans?size=2&indication={CD}")
    body = r.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    assert not body["weight"]["pediatric"]
    assert all(ln["per_kg"] is None for p in body["items"] for ln in p["lines"])
    assert body["items"][0]["active"] and not body["items"][1]["active"]
    rest = client.get(
        f"{API}/patients/{cd.patient.pk}/plans?size=2&indication={CD}&cursor={body['next_cursor']}"
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [p["id"] for p in body["items"] + rest["items"]]
    assert ids == list(
        TreatmentPlan.objects.filter(patient=cd.patient)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    "query", ["size=0", "size=51", "cursor=nonsense", "indication=migraine_typo", "active=maybe"]
)
def test_bad_plan_queries_are_422(cd, query):
    r = cd.client("nurse").get(f"{API}/patients/{cd.patient.pk}/plans?{query}")
    assert r.status_code == 422 and r.json()["errors"]


def test_a_physician_signs_a_nurses_plan_through_the_api(cd):
    _session(cd, 30)
    plan = _nurse_plan(cd, cd.patient, CD)
    url = f"{API}/plans/{plan.pk}/sign"
    before = _changes()
    assert _post(cd.client("nurse"), url).status_code == 403
    assert _post(cd.client("other_clinic_staff"), url).status_code == 404
    assert _post(cd.client("other_practice_staff"), url).status_code == 404
    assert _post(cd.client("patient"), url).status_code == 401
    assert _changes() == before
    plan.refresh_from_db()
    assert not plan.is_ordered
    r = _post(cd.client("physician"), url)
    assert r.status_code == 200, r.content
    assert r.json()["ordered"] and r.json()["ordered_by_id"] == cd.users["physician"].pk
    assert AuditEvent.objects.filter(
        action="update", object_type="treatments.treatmentplan", object_id=str(plan.pk)
    ).exists()
    assert _post(cd.client("physician"), url).status_code == 409


# ---- scale scores ---------------------------------------------------------------------------------


def test_scale_scores_carry_their_cycle_and_page(cd):
    _two_cycles(cd)  # sessions 170 and 84 days ago; TWSTRS 175, 135 and 49 days ago
    client = cd.client("physician")
    r = client.get(f"{API}/patients/{cd.patient.pk}/scale-entries?size=2&instrument=twstrs")
    assert r.status_code == 200, r.content
    first = r.json()
    assert [e["cycle"] for e in first["items"]] == [2, 1]
    rest = client.get(
        f"{API}/patients/{cd.patient.pk}/scale-entries?size=2&cursor={first['next_cursor']}"
    ).json()
    assert [e["cycle"] for e in rest["items"]] == [0] and rest["next_cursor"] is None
    assert Decimal(first["items"][0]["score"]) == 31
    assert first["items"][0]["instrument_label"] == "TWSTRS"
    assert _views(cd.patient) == 2


def test_a_nurse_records_a_twstrs_score_through_the_api(cd):
    url = f"{API}/patients/{cd.patient.pk}/scale-entries"
    body = {
        "indication": CD,
        "instrument": "twstrs",
        "taken_on": timezone.localdate().isoformat(),
        "ratings": {"severity": 20, "disability": 15, "pain": 10},
    }
    r = _post(cd.client("nurse"), url, body)
    assert r.status_code == 201, r.content
    assert Decimal(r.json()["score"]) == 45 and r.json()["cycle"] == 0
    entry = ScaleEntry.objects.get()
    assert not entry.entered_by_patient and entry.entered_by == cd.users["nurse"]
    assert AuditEvent.objects.filter(action="create", object_type="treatments.scaleentry").exists()


def test_mas_and_gas_go_in_their_own_fields(cd):
    Condition.objects.create(
        patient=cd.patient, indication="upper_limb_spasticity", icd10_code="I69.351"
    )
    url = f"{API}/patients/{cd.patient.pk}/scale-entries"
    today = timezone.localdate().isoformat()
    client = cd.client("physician")
    r = _post(
        client,
        url,
        {
            "indication": "upper_limb_spasticity",
            "instrument": "mas",
            "taken_on": today,
            "entries": [{"muscle": "biceps_brachii", "side": "left", "grade": "1+"}],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["answers"]["entries"][0]["grade"] == "1+"
    r = _post(
        client,
        url,
        {
            "indication": "upper_limb_spasticity",
            "instrument": "gas",
            "taken_on": today,
            "goals": [{"goal": "Put on a shirt alone", "weight": 1, "level": 0}],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["advisory"] and r.json()["score"] is not None


@pytest.mark.parametrize(
    "change,field",
    [
        ({"ratings": {"severity": 999}}, "severity"),
        ({"taken_on": "2999-01-01"}, "taken_on"),
        ({"taken_on": 0}, "taken_on"),
        ({"instrument": "jankovic"}, "instrument"),
        ({"indication": "chronic_migraine"}, "indication"),
        ({"colour": "blue"}, "colour"),
        ({"ratings": {"severity": "20"}}, "ratings.severity"),
    ],
)
def test_bad_scale_input_is_422_with_the_field_and_writes_nothing(cd, change, field):
    body = {
        "indication": CD,
        "instrument": "twstrs",
        "taken_on": timezone.localdate().isoformat(),
        "ratings": {"severity": 20},
        **change,
    }
    before = _changes()
    r = _post(cd.client("nurse"), f"{API}/patients/{cd.patient.pk}/scale-entries", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"], r.json()
    assert not ScaleEntry.objects.exists() and _changes() == before


@pytest.mark.parametrize(
    "persona,status",
    [
        ("front_desk", 403),
        ("billing", 403),
        ("clinic_admin", 403),
        ("other_clinic_staff", 404),
        ("other_practice_staff", 404),
        ("patient", 401),
        ("anonymous", 401),
    ],
)
def test_only_injectors_of_the_clinic_record_scores(cd, persona, status):
    assert permission_matrix(Perm.SESSION_CHART, ok=201, api=True)[persona] == status
    body = {
        "indication": CD,
        "instrument": "twstrs",
        "taken_on": timezone.localdate().isoformat(),
        "ratings": {"severity": 20},
    }
    before = _changes()
    r = _post(cd.client(persona), f"{API}/patients/{cd.patient.pk}/scale-entries", body)
    assert r.status_code == status
    assert not ScaleEntry.objects.exists() and _changes() == before


def test_scale_figures_per_cycle_equal_the_review_screen(cd):
    s1, s2 = _two_cycles(cd)
    r = cd.client("billing").get(f"{API}/patients/{cd.patient.pk}/scales/{CD}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert [c["session_id"] for c in body["cycles"]] == [s1.pk, s2.pk]
    assert body["cycles"][1]["adverse_effects"] == ["dysphagia"]
    assert body["cycles"][0]["effect_days"] == 70 and body["review_due"]
    total = next(m for m in body["measures"] if m["measure"] == "score")
    assert [c["change"] for c in total["cycles"]] == [-15.0, -23.0]
    assert "twstrs" in body["instruments"] and body["slots"]
    assert cd.client("billing").get(f"{API}/patients/{cd.patient.pk}/scales/nope").status_code == (
        404
    )


# ---- suggestions and reviews ----------------------------------------------------------------------


def test_suggestions_are_refreshed_listed_and_decided_through_the_api(cd):
    _two_cycles(cd)
    refresh = f"{API}/patients/{cd.patient.pk}/suggestions/refresh"
    assert _post(cd.client("front_desk"), refresh, {"indication": CD}).status_code == 403
    # Recalculating writes rows: the physicians who decide suggestions do it, not the nurse.
    assert _post(cd.client("nurse"), refresh, {"indication": CD}).status_code == 403
    assert not AdjustmentSuggestion.objects.exists()
    r = _post(cd.client("physician"), refresh, {"indication": CD})
    assert r.status_code == 200, r.content
    (made,) = r.json()
    assert made["rule_id"] == "SUGGEST-CD-DYSPHAGIA-SCM" and made["status"] == "open"
    assert made["advisory"] is (not made["confirmed"]) and "S24b" in made["source"]
    assert _post(cd.client("physician"), refresh, {"indication": CD}).json() == []

    listed = cd.client("nurse").get(f"{API}/patients/{cd.patient.pk}/suggestions?status=open")
    assert [s["id"] for s in listed.json()["items"]] == [made["id"]]

    url = f"{API}/suggestions/{made['id']}/decision"
    before = _changes()
    assert _post(cd.client("nurse"), url, {"decision": "accept"}).status_code == 403
    assert _post(cd.client("other_clinic_staff"), url, {"decision": "accept"}).status_code == 404
    r = _post(cd.client("physician"), url, {"decision": "reject"})
    assert r.status_code == 422 and "note" in r.json()["errors"]
    r = _post(cd.client("physician"), url, {"decision": "maybe"})
    assert r.status_code == 422 and "decision" in r.json()["errors"]
    assert _changes() == before
    assert AdjustmentSuggestion.objects.get().status == "open"

    r = _post(cd.client("physician"), url, {"decision": "accept", "note": "Agreed."})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "accepted" and r.json()["plan_id"]
    plan = TreatmentPlan.objects.get(pk=r.json()["plan_id"])
    assert plan.active and plan.is_ordered  # a physician's plan is the order
    assert _post(cd.client("physician"), url, {"decision": "reject", "note": "x"}).status_code == (
        409
    )
    accepted = cd.client("nurse").get(f"{API}/patients/{cd.patient.pk}/suggestions?status=accepted")
    assert [s["status"] for s in accepted.json()["items"]] == ["accepted"]


def test_reviews_list_every_indication_with_the_plans_they_wrote(cd):
    _two_cycles(cd)
    review = cycle_review.record_cycle_review(
        actor=cd.users["physician"],
        patient=cd.patient,
        indication=CD,
        decision="continue",
        reason="Good response.",
    )
    r = cd.client("clinic_admin").get(f"{API}/patients/{cd.patient.pk}/reviews?indication={CD}")
    assert r.status_code == 200, r.content
    (item,) = r.json()["items"]
    assert item["id"] == review.pk and item["decision"] == "continue"
    assert item["plan_ids"] == list(
        TreatmentPlan.objects.filter(review=review).values_list("pk", flat=True)
    )
    assert item["plan_ids"]
    other = cd.client("clinic_admin").get(
        f"{API}/patients/{cd.patient.pk}/reviews?indication=blepharospasm"
    )
    assert other.json()["items"] == []
    assert ResponseReview.objects.count() == 1


def test_reads_of_another_patient_are_404_for_other_practices(cd):
    _two_cycles(cd)
    for path in READS:
        r = cd.client("other_practice_staff").get(API + path.format(pid=cd.patient.pk))
        assert r.status_code == 404
    assert _views(cd.patient) == 0


# ---- consultations and protocols ------------------------------------------------------------------


def test_consultations_of_one_indication_with_prior_toxins_and_posture(cd):
    doctor = cd.users["physician"]
    consultation_actions.save_consultation(
        actor=doctor,
        patient=cd.patient,
        indication=CD,
        history="Neck turning to the left for 3 years.",
        goals="Drive without pain.",
    )
    consultation_actions.add_prior_toxin(
        actor=doctor,
        patient=cd.patient,
        indication=CD,
        product="abobotulinumtoxinA",
        units=Decimal("500"),
        last_given_on=timezone.localdate() - timedelta(days=200),
    )
    consultation_actions.record_posture(
        actor=doctor,
        patient=cd.patient,
        visit_date=timezone.localdate(),
        findings=[("rotation", "left")],
    )
    consultation_actions.save_consultation(
        actor=doctor, patient=cd.patient, indication="chronic_migraine", history="Migraine."
    )
    base = f"/api/v1/diaries/patients/{cd.patient.pk}/consultations"
    r = cd.client("nurse").get(f"{base}/{CD}")
    assert r.status_code == 200, r.content
    (note,) = r.json()["items"]
    assert note["indication"] == CD and note["history"].startswith("Neck turning")
    assert note["prior_toxins"][0]["product"] == "abobotulinumtoxinA"
    assert Decimal(note["prior_toxins"][0]["units"]) == 500
    assert note["postures"][0]["findings"] == [{"component": "rotation", "direction": "left"}]
    assert _views(cd.patient) == 1
    assert cd.client("nurse").get(f"{base}/not_a_condition").status_code == 404
    assert cd.client("nurse").get(f"{base}/{CD}?size=0").status_code == 422
    assert cd.client("other_practice_staff").get(f"{base}/{CD}").status_code == 404


def test_clinic_protocols_are_listed_per_clinic_and_audited(world):
    lines = [
        {"muscle": "temporalis", "side": "left", "sites": 4, "units": Decimal("20")},
        {"muscle": "frontalis", "side": "left", "sites": 2, "units": Decimal("10")},
    ]
    protocol = clinic_protocols.save_clinic_protocol(
        actor=world.users["physician"],
        clinic=world.clinic,
        lines=lines,
        name="Left facial pain",
        condition="Facial pain",
    )
    before = AuditEvent.objects.filter(action="view").count()
    r = world.client("nurse").get(f"{API}/clinic-protocols")
    assert r.status_code == 200, r.content
    (item,) = r.json()["items"]
    assert item["id"] == protocol.pk and item["off_label"]
    assert Decimal(item["total_units"]) == 30 and item["total_sites"] == 6
    assert AuditEvent.objects.filter(action="view").count() == before + 1
    assert world.client("other_clinic_staff").get(f"{API}/clinic-protocols").json()["items"] == []
    assert world.client("other_practice_staff").get(f"{API}/clinic-protocols").json()["items"] == []
    assert world.client("nurse").get(f"{API}/clinic-protocols?active=false").json()["items"] == []


def test_scale_entries_cost_the_same_queries_for_one_and_many_cycles(cd):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = cd.client("physician")
    url = f"{API}/patients/{cd.patient.pk}/scale-entries"
    _session(cd, 170)
    _entry(cd, "twstrs", {"severity": 20}, 175)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    small = count()
    for days in (140, 110, 80, 50):
        _session(cd, days)
        _entry(cd, "twstrs", {"severity": 18}, days + 2)
    assert count() == small


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_plan_review_and_suggestion_lists_cost_the_same_queries_for_more_rows(cd):
    _two_cycles(cd)
    client = cd.client("physician")
    urls = [
        f"{API}/patients/{cd.patient.pk}/plans",
        f"{API}/patients/{cd.patient.pk}/reviews",
        f"{API}/patients/{cd.patient.pk}/suggestions",
    ]
    _nurse_plan(cd, cd.patient, CD)
    cycle_review.refresh_suggestions(actor=cd.users["physician"], patient=cd.patient, indication=CD)
    cycle_review.record_cycle_review(
        actor=cd.users["physician"], patient=cd.patient, indication=CD, decision="continue"
    )
    small = [_queries(client, u) for u in urls]
    for _ in range(4):
        _nurse_plan(cd, cd.patient, CD)
        cycle_review.record_cycle_review(
            actor=cd.users["physician"], patient=cd.patient, indication=CD, decision="continue"
        )
    _session(cd, 10)
    cycle_review.refresh_suggestions(actor=cd.users["physician"], patient=cd.patient, indication=CD)
    assert TreatmentPlan.objects.filter(patient=cd.patient).count() >= 10
    assert [_queries(client, u) for u in urls] == small


def test_consultation_and_protocol_lists_cost_the_same_queries_for_more_rows(cd):
    doctor = cd.users["physician"]
    base = f"/api/v1/diaries/patients/{cd.patient.pk}/consultations/{CD}"
    protocols = f"{API}/clinic-protocols"
    client = cd.client("physician")

    def note_and_protocol(n):
        consultation_actions.save_consultation(
            actor=doctor,
            patient=cd.patient,
            indication=CD,
            sign=True,
            visit_date=timezone.localdate() - timedelta(days=n),
            decision="treat",
            decision_reasons="Disabling torticollis.",
            **dict.fromkeys(consultation_actions.SIGN_REQUIRED_TEXTS, f"Visit {n}."),
        )
        clinic_protocols.save_clinic_protocol(
            actor=doctor,
            clinic=cd.clinic,
            lines=[{"muscle": "temporalis", "side": "left", "sites": 2, "units": Decimal("10")}],
            name=f"Protocol {n}",
            condition="Facial pain",
        )

    note_and_protocol(0)
    small = [_queries(client, base), _queries(client, protocols)]
    for n in range(1, 5):
        note_and_protocol(n)
    assert [_queries(client, base), _queries(client, protocols)] == small
