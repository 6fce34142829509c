"""Recording prior authorizations, what they have consumed, the chart panel and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.authorizations import selectors
from bontrack.authorizations.models import Authorization
from bontrack.authorizations.tests.conftest import approved, days
from bontrack.factories import PatientFactory, signed_session
from conftest import PERSONAS, permission_matrix

pytestmark = pytest.mark.django_db

EDIT = permission_matrix(Perm.AUTHORIZATION_EDIT, ok=302)
VIEW = permission_matrix(Perm.AUTHORIZATION_VIEW)

FORM = {
    "payer_name": "Blue Lake Health",
    "payer_id": "BLH01",
    "indication": "chronic_migraine",
    "status": "approved",
    "number": "PA-77",
    "units_approved": "400",
    "visits_approved": "2",
    "valid_from": "2026-01-01",
    "valid_until": "2026-12-31",
    "note": "",
}


def _changes() -> tuple[int, int]:
    return (
        Authorization.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_who_may_record_an_authorization(world, persona):
    before = _changes()
    response = world.client(persona).post(f"/patients/{world.patient.pk}/authorizations/new/", FORM)
    assert response.status_code == EDIT[persona], persona
    if persona in ("billing", "clinic_admin"):
        auth = Authorization.objects.get()
        assert (auth.number, auth.units_approved, auth.status) == ("PA-77", 400, "approved")
        event = AuditEvent.objects.get(object_type="authorizations.authorization", action="create")
        assert event.patient_id == world.patient.pk
    else:
        assert _changes() == before


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_who_sees_the_chart_panel(world, persona):
    approved(world)
    response = world.client(persona).get(f"/patients/{world.patient.pk}/authorizations/panel/")
    expected = 302 if VIEW[persona] == 302 else VIEW[persona]
    assert response.status_code == expected, persona
    if persona != "anonymous" and expected == 200:
        assert "PA-1001" in response.content.decode()
        assert AuditEvent.objects.filter(action="view", patient_id=world.patient.pk).exists()


def test_an_approval_without_its_number_and_dates_is_refused_with_sentences(world):
    data = {**FORM, "number": "", "valid_from": ""}
    before = _changes()
    response = world.client("billing").post(
        f"/patients/{world.patient.pk}/authorizations/new/", data
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "An approval has an authorization number." in page
    assert "Enter the first day of the validity." in page
    assert _changes() == before


def test_dates_in_the_wrong_order_are_refused(world):
    data = {**FORM, "valid_from": "2026-12-31", "valid_until": "2026-01-01"}
    response = world.client("billing").post(
        f"/patients/{world.patient.pk}/authorizations/new/", data
    )
    assert response.status_code == 422
    assert "comes after its start" in response.content.decode()


def test_editing_records_the_change_in_the_audit(world):
    auth = approved(world)
    data = {**FORM, "number": "PA-1001", "units_approved": "800"}
    response = world.client("clinic_admin").post(f"/authorizations/{auth.pk}/edit/", data)
    assert response.status_code == 302
    auth.refresh_from_db()
    assert auth.units_approved == 800
    event = AuditEvent.objects.filter(action="update", object_id=str(auth.pk)).get()
    assert event.changes["units_approved"] == [600, 800]


def test_consumption_counts_given_sessions_of_the_indication_inside_the_validity(world):
    nurse = world.users["physician"]
    signed_session(nurse, world.patient, timezone.now() - timedelta(days=100))
    signed_session(nurse, world.patient, timezone.now() - timedelta(days=10))
    # Before the validity: not counted.
    signed_session(nurse, world.patient, timezone.now() - timedelta(days=300))
    auth = approved(world, valid_from=days(-150))
    row = selectors.with_consumption(Authorization.objects.filter(pk=auth.pk)).get()
    assert row.visits_used == 2
    assert row.units_used == 2 * 155  # two PREEMPT sessions of 155 U
    state = selectors.state_of(row, timezone.localdate())
    assert state.units_left == 600 - 310 and state.visits_left == 2


def test_a_session_of_another_indication_does_not_count(world):
    signed_session(world.users["physician"], world.patient, timezone.now() - timedelta(days=5))
    auth = approved(world, indication="cervical_dystonia")
    row = selectors.with_consumption(Authorization.objects.filter(pk=auth.pk)).get()
    assert (row.units_used, row.visits_used) == (0, 0)


def test_another_practice_cannot_reach_an_authorization(world):
    auth = approved(world)
    client = world.client("other_practice_staff")
    assert client.get(f"/authorizations/{auth.pk}/edit/").status_code in (403, 404)
    assert client.get(f"/patients/{world.patient.pk}/authorizations/panel/").status_code == 404


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_panel_costs_the_same_for_one_and_for_many_authorizations(world):
    client = world.client("billing")
    url = f"/patients/{world.patient.pk}/authorizations/panel/"
    approved(world)
    one = _count(client, url)
    for n in range(8):
        approved(
            world,
            number=f"PA-2{n}",
            indication="cervical_dystonia" if n % 2 else "chronic_migraine",
        )
    assert _count(client, url) == one


def test_the_list_and_its_csv_cost_the_same_for_few_and_many_rows(world):
    client = world.client("billing")
    approved(world, valid_until=days(10))
    small = _count(client, "/authorizations/?show=all")
    small_csv = _count(client, "/authorizations/export.csv?show=all")
    for n in range(12):
        p = PatientFactory(clinic=world.clinic)
        approved(world, patient=p, number=f"PA-3{n}", valid_until=days(5 + n))
    assert _count(client, "/authorizations/?show=all") == small
    assert _count(client, "/authorizations/export.csv?show=all") == small_csv


def test_the_list_shows_authorizations_expiring_or_running_out(world):
    from bontrack.treatments.actions import plans

    expiring = approved(world, number="PA-SOON", valid_until=days(12))
    other = PatientFactory(clinic=world.clinic, last_name="Lowunits")
    signed_session(world.users["physician"], other, timezone.now() - timedelta(days=20))
    plans.create_plan(actor=world.users["physician"], patient=other, additions=[], note="")
    approved(world, patient=other, number="PA-LOW", units_approved=300, valid_until=days(200))
    approved(
        world,
        patient=PatientFactory(clinic=world.clinic),
        number="PA-FINE",
        valid_until=days(200),
    )
    page = world.client("front_desk").get("/authorizations/").content.decode()
    assert "PA-SOON" in page and "PA-LOW" in page and "PA-FINE" not in page
    assert "Expires in 12 days" in page
    assert "145 units left, the plan needs 155" in page
    csv = world.client("billing").get("/authorizations/export.csv").content.decode()
    assert "PA-SOON" in csv and "PA-LOW" in csv and "PA-FINE" not in csv
    assert AuditEvent.objects.filter(action="export").exists()
    assert expiring.pk


def test_uploading_a_pdf_keeps_it_and_refuses_other_files(world, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    auth = approved(world)
    client = world.client("billing")
    url = f"/authorizations/{auth.pk}/documents/new/"
    bad = SimpleUploadedFile("letter.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url, {"file": bad})
    assert response.status_code == 422
    assert "Upload a PDF, PNG, JPEG or TIFF file." in response.content.decode()
    good = SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n%fake\n", content_type="application/pdf")
    assert client.post(url, {"file": good}).status_code == 302
    doc = auth.documents.get()
    assert doc.content_type == "application/pdf" and doc.size == 15
    assert (tmp_path / "authorizations" / doc.path).read_bytes().startswith(b"%PDF-")
    download = world.client("front_desk").get(f"/authorizations/documents/{doc.pk}/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert (
        world.client("other_clinic_staff").get(f"/authorizations/documents/{doc.pk}/").status_code
        == 404
    )


def test_the_form_starts_with_the_patients_own_condition(world):
    from bontrack.patients.models import Condition

    Condition.objects.create(
        patient=world.patient, indication="cervical_dystonia", icd10_code="G24.3"
    )
    page = world.client("billing").get(f"/patients/{world.patient.pk}/authorizations/new/")
    assert page.status_code == 200
    assert '<option value="cervical_dystonia" selected>' in page.content.decode()
