"""One patient, one chart: likely duplicates at registration, merging two charts (every relation
to Patient follows, audited, reversible until confirmed) and the practice's MRN format."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from bontrack.accounts.models import PortalAccount
from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.diaries.models import DiaryDay
from bontrack.factories import PatientFactory, booked_appointment
from bontrack.patients import services
from bontrack.patients.choices import MergeStatus, PatientStatus
from bontrack.patients.duplicates import fold, likely_duplicates
from bontrack.patients.models import Condition, MrnFormat, Patient, PatientMerge
from bontrack.scheduling.tests.conftest import NOW, sched  # noqa: F401 - fixture
from conftest import permission_matrix

pytestmark = pytest.mark.django_db


def _form(world, **overrides):
    data = {
        "clinic": world.clinic.pk,
        "first_name": "Rósa",
        "last_name": "COHEN",
        "date_of_birth": world.patient.date_of_birth.isoformat(),
        "sex": "female",
        "mrn": "",
        "preferred_contact": "email",
        "preferred_language": "en",
        "status": "active",
        "address_line1": "12 Elm Street",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "insurance_payer": "Blue Cross",
        "insurance_member_id": "XJ123456",
        "insurance_group": "G-77",
        "subscriber_name": "Rosa Cohen",
        "subscriber_relationship": "self",
    }
    return {**data, **overrides}


def test_fold_ignores_accents_case_and_hyphens():
    assert fold("  José-María  MÜLLER ") == fold("jose maria muller") == "jose maria muller"


def test_registration_shows_likely_duplicates_before_creating_a_chart(world):
    client = world.client("front_desk")
    before = Patient.objects.count()
    response = client.post("/patients/new/", _form(world))
    html = response.content.decode()
    assert response.status_code == 200 and Patient.objects.count() == before
    assert "This person may already have a chart" in html and world.patient.mrn in html
    assert "Same name and date of birth." in html
    # The registrar says it is a different person: the chart is created, insurance included.
    response = client.post("/patients/new/", _form(world, not_a_duplicate="on"))
    assert response.status_code == 302
    new = Patient.objects.exclude(pk__in=[world.patient.pk, world.other_patient.pk]).get(
        last_name="COHEN"
    )
    assert new.insurance_member_id == "XJ123456" and new.subscriber_relationship == "self"
    event = AuditEvent.objects.get(action="create", patient_id=new.pk)
    assert event.changes["insurance_payer"] == [None, "Blue Cross"]


def test_phone_and_email_match_whatever_the_punctuation(world):
    world.patient.phone = "(555) 010-2030"
    world.patient.email = "Rosa@Example.org"
    world.patient.save()
    found = likely_duplicates(
        practice_id=world.practice.pk,
        first_name="R",
        last_name="X",
        date_of_birth=date(1950, 1, 1),
        phone="+1 555 010 2030",
        email="rosa@example.ORG",
    )
    assert [c.patient for c in found] == [world.patient]
    assert found[0].reasons == ("e-mail address", "phone number")
    # Another practice's charts are never candidates.
    assert not likely_duplicates(
        practice_id=world.other_practice.pk,
        first_name="Rosa",
        last_name="Cohen",
        date_of_birth=world.patient.date_of_birth,
    )


def _changes():
    return AuditEvent.objects.exclude(outcome="denied").exclude(action__in=["view", "search"])


@time_machine.travel(NOW, tick=False)
def test_merge_moves_every_relation_is_audited_and_undo_restores_it(sched):  # noqa: F811
    world = sched.world
    keep = world.patient
    dup = PatientFactory(clinic=world.clinic, first_name="Rosa", last_name="Cohén", mrn="A1-0099")
    Condition.objects.create(patient=keep, indication="chronic_migraine", icd10_code="G43.709")
    same = Condition.objects.create(
        patient=dup, indication="chronic_migraine", icd10_code="G43.709"
    )
    other = Condition.objects.create(
        patient=dup, indication="chronic_migraine", icd10_code="G43.719"
    )
    day = DiaryDay.objects.create(
        patient=dup, date=date(2026, 5, 30), headache=False, source="transcribed"
    )
    appt = booked_appointment(
        world.users["front_desk"],
        dup,
        sched.type("consult"),
        datetime(2026, 6, 3, 14, tzinfo=UTC),
    )
    account = PortalAccount.objects.get(patient=world.other_patient)
    account.patient = dup
    account.save()
    before_rows = AuditEvent.objects.filter(patient_id=dup.pk).count()
    merge = services.start_merge(actor=world.users["front_desk"], survivor=keep, duplicate=dup)
    appt.refresh_from_db()
    day.refresh_from_db()
    other.refresh_from_db()
    same.refresh_from_db()
    assert appt.patient_id == day.patient_id == other.patient_id == keep.pk
    # The same active condition twice would break the chart's rule: it stays, marked as already
    # on the surviving chart. Both charts have a portal account: the kept chart's stays its only
    # one, and that blocks confirming.
    assert same.patient_id == dup.pk and merge.stayed == {
        "patients.condition.patient" + services.SAME: [same.pk],
        "accounts.portalaccount.patient": [account.pk],
    }
    assert services.blocking(merge.stayed) == {"accounts.portalaccount.patient": [account.pk]}
    dup.refresh_from_db()
    assert dup.status == PatientStatus.MERGED
    assert _changes().filter(summary__startswith="Merge started").count() == 2
    # The surviving chart's access log shows the merged chart's history.
    assert set(services.merged_chart_ids(keep.pk)) == {keep.pk, dup.pk}
    assert AuditEvent.objects.filter(patient_id=dup.pk).count() > before_rows
    # A merge with a row that stayed cannot be confirmed until checked; undo restores everything.
    with pytest.raises(services.Conflict, match=r"could not move \(portal accounts\)"):
        services.confirm_merge(actor=world.users["front_desk"], merge=merge)
    services.undo_merge(actor=world.users["front_desk"], merge=merge)
    appt.refresh_from_db()
    day.refresh_from_db()
    dup.refresh_from_db()
    assert appt.patient_id == day.patient_id == dup.pk and dup.status == PatientStatus.ACTIVE
    assert PortalAccount.objects.get(pk=account.pk).patient_id == dup.pk
    assert PatientMerge.objects.get(pk=merge.pk).status == MergeStatus.UNDONE
    with pytest.raises(services.Conflict, match="already undone"):
        services.undo_merge(actor=world.users["front_desk"], merge=merge)


@time_machine.travel(NOW, tick=False)
def test_the_same_diagnosis_on_both_charts_does_not_block_confirming(sched):  # noqa: F811
    """Two charts of one treated person usually carry the same diagnosis: the duplicate's copy
    stays on the merged chart (the survivor has it), the page says so, and the merge confirms."""
    world = sched.world
    keep = world.patient
    dup = PatientFactory(clinic=world.clinic, first_name="Rosa", last_name="Cohen", mrn="A1-0098")
    Condition.objects.create(patient=keep, indication="cervical_dystonia", icd10_code="G24.3")
    same = Condition.objects.create(patient=dup, indication="cervical_dystonia", icd10_code="G24.3")
    # An ended condition with the same code is not "the same active one": it moves.
    ended = Condition.objects.create(
        patient=dup, indication="cervical_dystonia", icd10_code="G24.3", active=False
    )
    desk = world.users["front_desk"]
    merge = services.start_merge(actor=desk, survivor=keep, duplicate=dup)
    assert merge.stayed == {"patients.condition.patient" + services.SAME: [same.pk]}
    assert merge.moved["patients.condition.patient"] == [ended.pk]
    page = world.client("front_desk").get(f"/patients/merges/{merge.pk}/").content.decode()
    assert "Already on the chart that stays" in page and "1 condition" in page
    assert "What could not move" not in page
    services.confirm_merge(actor=desk, merge=merge)
    assert PatientMerge.objects.get(pk=merge.pk).status == MergeStatus.CONFIRMED
    # The survivor still has exactly one active cervical dystonia diagnosis.
    assert (
        Condition.objects.filter(patient=keep, indication="cervical_dystonia", active=True).count()
        == 1
    )


def test_front_desk_merges_through_the_pages_and_confirms(world):
    dup = PatientFactory(clinic=world.clinic, first_name="ROSA", last_name="cohen", mrn="A1-0100")
    dup.date_of_birth = world.patient.date_of_birth
    dup.save()
    client = world.client("front_desk")
    page = client.get(f"/patients/{world.patient.pk}/merge/")
    assert page.status_code == 200 and "A1-0100" in page.content.decode()
    compare = client.get(f"/patients/{world.patient.pk}/merge/?duplicate={dup.pk}")
    assert "Compare the two charts" in compare.content.decode()
    response = client.post(f"/patients/{world.patient.pk}/merge/", {"duplicate": dup.pk})
    merge = PatientMerge.objects.get(duplicate=dup)
    assert response.status_code == 302 and response["Location"] == f"/patients/merges/{merge.pk}/"
    chart = client.get(f"/patients/{world.patient.pk}/").content.decode()
    assert "merge is not confirmed yet" in chart
    response = client.post(f"/patients/merges/{merge.pk}/", {"action": "confirm"})
    assert response.status_code == 302
    merge.refresh_from_db()
    assert merge.status == MergeStatus.CONFIRMED and merge.decided_by == world.users["front_desk"]
    # The merged chart is gone from merge pickers and cannot be merged again.
    assert client.get(f"/patients/{dup.pk}/merge/").status_code == 404
    assert client.post(f"/patients/merges/{merge.pk}/", {"action": "undo"}).status_code == 409


@pytest.mark.parametrize("persona,expected", permission_matrix(Perm.PATIENT_MERGE, ok=302).items())
def test_merge_over_every_persona(world, persona, expected):
    dup = PatientFactory(clinic=world.clinic, first_name="Rosa", last_name="Cohen", mrn="A1-0101")
    before = _changes().count()
    response = world.client(persona).post(
        f"/patients/{world.patient.pk}/merge/", {"duplicate": dup.pk}
    )
    assert response.status_code == expected
    if expected != 302:
        assert not PatientMerge.objects.exists() and _changes().count() == before


def test_the_practice_mrn_format_numbers_new_charts_and_checks_typed_ones(world):
    admin = world.client("clinic_admin")
    assert (
        admin.post("/patients/record-numbers/", {"mrn_prefix": "ns", "digits": "6"}).status_code
        == 302
    )
    fmt = MrnFormat.objects.get(practice=world.practice)
    assert fmt.prefix == "NS" and fmt.example == "NS000001"
    first = services.register_patient(
        actor=world.users["front_desk"],
        clinic=world.clinic,
        first_name="Ana",
        last_name="Lima",
        date_of_birth=date(1990, 1, 2),
    )
    second = services.register_patient(
        actor=world.users["front_desk"],
        clinic=world.clinic,
        first_name="Ben",
        last_name="Ode",
        date_of_birth=date(1991, 1, 2),
    )
    assert (first.mrn, second.mrn) == ("NS000001", "NS000002")
    with pytest.raises(ValidationError, match="look like NS000003"):
        services.register_patient(
            actor=world.users["front_desk"],
            clinic=world.clinic,
            first_name="Cy",
            last_name="Lo",
            date_of_birth=date(1992, 1, 2),
            mrn="X-1",
        )
    assert (
        admin.post("/patients/record-numbers/", {"mrn_prefix": "N$", "digits": "3"}).status_code
        == 422
    )
    assert world.client("front_desk").get("/patients/record-numbers/").status_code == 403


def test_the_merge_page_costs_the_same_queries_with_one_or_five_likely_duplicates(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("front_desk")
    url = f"/patients/{world.patient.pk}/merge/?q=cohen"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def dupes(n, start):
        for i in range(n):
            PatientFactory(
                clinic=world.clinic,
                first_name="Rosa",
                last_name="Cohen",
                mrn=f"A1-8{start + i:03d}",
                date_of_birth=world.patient.date_of_birth,
            )

    dupes(1, 0)
    client.get(url)
    small = count()
    dupes(4, 10)
    assert count() == small


def _given(world, patient, *, by="physician"):
    """A given session: a physician's is signed, a nurse's (off the order) awaits co-signature."""
    from bontrack.treatments.actions import signing
    from bontrack.treatments.tests.conftest import acknowledge_all, chart

    session = chart(world.users[by], patient)
    acknowledge_all(world.users[by], session)
    return signing.sign_session(actor=world.users[by], session=session)


def test_signed_sessions_of_both_charts_move_with_the_merge_undo_and_confirm(world):
    """Signed sessions are immutable (database triggers) except for one change: their patient,
    between the two charts of a pending merge. Both charts have given sessions: the duplicate's
    move to the surviving chart, undo puts them back, and the merge is then confirmed."""
    from bontrack.outcomes.models import RefreshMark
    from bontrack.treatments.models import TreatmentSession

    keep = world.patient
    dup = PatientFactory(clinic=world.clinic, first_name="Rosa", last_name="Cohen", mrn="A1-0102")
    # Two records of the same diagnosis with different codes: both move (the same code twice stays).
    Condition.objects.create(patient=keep, indication="chronic_migraine", icd10_code="G43.719")
    Condition.objects.create(patient=dup, indication="chronic_migraine", icd10_code="G43.709")
    kept_session = _given(world, keep)
    signed = _given(world, dup)
    awaiting = _given(world, dup, by="nurse")
    assert (kept_session.status, signed.status, awaiting.status) == (
        "signed",
        "signed",
        "awaiting",
    )
    # Both charts are queued for the outcome rollup (one row per chart): derived rows are rebuilt
    # after the merge, never moved, so they do not hold the confirmation up.
    assert RefreshMark.objects.filter(patient_id__in=[keep.pk, dup.pk]).count() == 2
    desk = world.users["front_desk"]

    def patients():
        return dict(
            TreatmentSession.objects.filter(
                pk__in=[kept_session.pk, signed.pk, awaiting.pk]
            ).values_list("pk", "patient_id")
        )

    merge = services.start_merge(actor=desk, survivor=keep, duplicate=dup)
    assert patients() == {kept_session.pk: keep.pk, signed.pk: keep.pk, awaiting.pk: keep.pk}
    assert sorted(merge.moved["treatments.treatmentsession.patient"]) == sorted(
        [signed.pk, awaiting.pk]
    )
    assert merge.stayed == {}
    assert PatientMerge.objects.get(pk=merge.pk).moved == merge.moved
    started = _changes().get(summary__startswith="Merge started", patient_id=keep.pk)
    assert started.changes["moved"][1]["treatments.treatmentsession.patient"] == 2
    # The signed rows kept every clinical column: only the patient changed.
    after = TreatmentSession.objects.get(pk=signed.pk)
    assert (after.status, after.signed_at, after.totals) == (
        signed.status,
        signed.signed_at,
        signed.totals,
    )
    # Undo (the merge still pending): the sessions go back to the chart they were given on.
    services.undo_merge(actor=desk, merge=merge)
    assert patients() == {kept_session.pk: keep.pk, signed.pk: dup.pk, awaiting.pk: dup.pk}
    assert Patient.objects.get(pk=dup.pk).status == PatientStatus.ACTIVE
    # Merged again and confirmed: nothing stayed, one patient, one chart.
    merge = services.start_merge(actor=desk, survivor=keep, duplicate=dup)
    assert merge.stayed == {}
    confirmed = services.confirm_merge(actor=desk, merge=merge)
    assert confirmed.status == MergeStatus.CONFIRMED
    assert patients() == {kept_session.pk: keep.pk, signed.pk: keep.pk, awaiting.pk: keep.pk}
    # Once confirmed, the database refuses to move a signed session again (no pending merge).
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE treatments_treatmentsession SET patient_id = %s WHERE id = %s",
            [dup.pk, signed.pk],
        )
    assert TreatmentSession.objects.get(pk=signed.pk).patient_id == keep.pk


def test_the_merge_pages_say_the_signed_sessions_move_and_confirm_with_them(world):
    from bontrack.treatments.models import TreatmentSession

    dup = PatientFactory(clinic=world.clinic, first_name="ROSA", last_name="cohen", mrn="A1-0103")
    Condition.objects.create(patient=dup, indication="chronic_migraine", icd10_code="G43.709")
    session = _given(world, dup)
    client = world.client("front_desk")
    compare = client.get(f"/patients/{world.patient.pk}/merge/?duplicate={dup.pk}")
    html = compare.content.decode()
    assert "Signed treatment sessions of chart A1-0103" in html
    assert "keep the other chart" not in html
    response = client.post(f"/patients/{world.patient.pk}/merge/", {"duplicate": dup.pk})
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "Treatment sessions moved as they were signed" in detail
    assert "<li>1 treatment session</li>" in detail
    assert "could not move" not in detail and "keep the other chart" not in detail
    merge = PatientMerge.objects.get(duplicate=dup)
    assert client.post(f"/patients/merges/{merge.pk}/", {"action": "confirm"}).status_code == 302
    assert TreatmentSession.objects.get(pk=session.pk).patient_id == world.patient.pk
    assert PatientMerge.objects.get(pk=merge.pk).status == MergeStatus.CONFIRMED


def test_the_api_takes_and_returns_address_and_insurance(world):
    import json

    client = world.client("front_desk")
    body = {
        "clinic_id": world.clinic.pk,
        "first_name": "Nora",
        "last_name": "Baker",
        "date_of_birth": "1975-02-03",
        "insurance_payer": "Cigna",
        "insurance_member_id": "CIG123",
        "subscriber_relationship": "self",
        "city": "Springfield",
    }
    created = client.post("/api/v1/patients/", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["insurance_member_id"] == "CIG123" and data["subscriber_relationship"] == "self"
    bad = client.post(
        "/api/v1/patients/",
        json.dumps({**body, "first_name": "Other", "subscriber_relationship": "cousin"}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    merged = client.patch(
        f"/api/v1/patients/{data['id']}",
        json.dumps({"status": "merged"}),
        content_type="application/json",
    )
    assert merged.status_code == 422 and "merging it into another chart" in merged.content.decode()
