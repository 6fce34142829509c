"""Property tests: random text and Unicode in every input family (integers, decimals, dates, free
text, CSV cells) never answers 500 and never writes a row it refuses."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bontrack.core import parsing
from bontrack.diaries.actions import actors
from bontrack.diaries.models import DiaryDay, DiaryImport
from bontrack.patients.models import PriorTreatment
from bontrack.treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

DB = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text that looks like numbers and dates, in every script, plus control and bidi characters.
NUMERIC = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789²٣١९１_-+.eE NaInfty\u202e\x00\n", max_size=24),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just("9" * 5000),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
DATES = st.one_of(
    st.text(max_size=12),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.text(alphabet="0123456789-٠١٢٣T:Z", min_size=8, max_size=12),
)
FREE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
) | st.sampled_from(["a\u202eb", "x\x85y", "\x1b[31m", "=HYPERLINK(1)", "line\nbreak"])


# ---- the parser itself ------------------------------------------------------------------------------


@given(NUMERIC)
def test_parse_int_returns_a_bounded_ascii_integer_or_a_parse_error(raw):
    try:
        value = parsing.parse_int(raw, min_value=0, max_value=10**6)
    except parsing.ParseError as exc:
        assert str(exc)
    else:
        assert raw.strip().lstrip("+").isascii() and 0 <= value <= 10**6


@given(NUMERIC)
def test_parse_decimal_never_returns_nan_or_an_exponent(raw):
    try:
        value = parsing.parse_decimal(raw, min_value=0, max_value=24, whole_digits=2)
    except parsing.ParseError:
        return
    assert value.is_finite() and Decimal(0) <= value <= Decimal(24)
    assert "e" not in raw.lower() and raw.strip().isascii()


@given(DATES)
def test_parse_date_stays_between_1900_and_2100(raw):
    try:
        value = parsing.parse_date(raw)
    except parsing.ParseError:
        return
    assert parsing.DATE_MIN <= value <= parsing.DATE_MAX


@given(FREE_TEXT)
def test_check_text_refuses_every_control_and_bidi_character(raw):
    try:
        parsing.check_text(raw, multiline=True)
    except parsing.ParseError:
        return
    for ch in raw:
        assert ch in "\t\n\r" or not (
            ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in parsing.BIDI
        )


# ---- forms (portal and staff) ----------------------------------------------------------------------


@DB
@given(hours=NUMERIC, aura=NUMERIC, doses=NUMERIC, note=FREE_TEXT)
def test_the_portal_diary_form_never_fails_on_random_input(world, hours, aura, doses, note):
    client = world.client("patient")
    day = actors.local_today() - timedelta(days=1)
    DiaryDay.objects.filter(patient=world.patient).delete()
    response = client.post(
        f"/portal/diary/day/{day}/",
        {
            "headache": "yes",
            "hours": hours,
            "severity": "2",
            "aura": "on",
            "aura_minutes": aura,
            "medicines": ["ibuprofen"],
            "doses_ibuprofen": doses,
            "note": note,
        },
    )
    assert response.status_code in (302, 422)
    assert DiaryDay.objects.exists() == (response.status_code == 302)


@DB
@given(drug=FREE_TEXT, started=DATES)
def test_the_prior_treatment_form_never_fails_on_random_input(world, drug, started):
    client = world.client("physician")
    before = PriorTreatment.objects.count()
    response = client.post(
        f"/patients/{world.patient.pk}/add/prior/",
        {
            "drug": drug,
            "drug_class": "anticonvulsant",
            "outcome": "ineffective",
            "started_on": started,
        },
    )
    assert response.status_code in (200, 302, 422)
    if response.status_code == 422:
        assert PriorTreatment.objects.count() == before
    else:
        stored = PriorTreatment.objects.latest("pk").drug
        assert parsing.text_problem(stored) is None


@DB
@given(clinician=NUMERIC, day=DATES)
def test_staff_query_parameters_never_fail(world, clinician, day):
    client = world.client("front_desk")
    for url, params in (
        ("/schedule/", {"clinician": clinician, "room": clinician, "date": day, "view": "week"}),
        ("/schedule/waitlist/", {"patient": clinician}),
    ):
        assert client.get(url, params).status_code == 200


# ---- the JSON API ----------------------------------------------------------------------------------

JSON_VALUES = st.one_of(
    NUMERIC, DATES, FREE_TEXT, st.integers(), st.floats(allow_nan=False), st.none(), st.booleans()
)


@DB
@given(day=JSON_VALUES, hours=JSON_VALUES, aura=JSON_VALUES, note=JSON_VALUES)
def test_the_diary_api_never_fails_on_random_values(world, day, hours, aura, note):
    body = {
        "days": [
            {"date": day, "headache": True, "severity": 2, "hours": hours, "aura": True}
            | {"aura_minutes": aura, "note": note}
        ]
    }
    before = DiaryDay.objects.count()
    response = world.client("nurse").put(
        f"/api/v1/diaries/patients/{world.patient.pk}/days",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code in (200, 400, 409, 422)
    assert set(response.json()) >= ({"detail", "errors"} if response.status_code >= 400 else set())
    if response.status_code >= 400:
        assert DiaryDay.objects.count() == before


@DB
@given(performed_at=JSON_VALUES)
def test_the_session_api_never_fails_on_random_times(world, performed_at):
    response = world.client("nurse").post(
        f"/api/v1/treatments/patients/{world.patient.pk}/sessions",
        data=json.dumps({"performed_at": performed_at}),
        content_type="application/json",
    )
    assert response.status_code in (201, 400, 409, 422)
    if response.status_code == 422:
        assert not TreatmentSession.objects.filter(
            performed_at__year__lt=parsing.DATE_MIN.year
        ).exists()
    TreatmentSession.objects.all().delete()


# ---- CSV cells -------------------------------------------------------------------------------------

CELL = st.one_of(NUMERIC, DATES, FREE_TEXT).map(lambda s: s.replace('"', "").replace(",", ";"))


@DB
@given(date_cell=CELL, hours=CELL, aura=CELL, meds=CELL, note=CELL)
def test_the_csv_import_never_fails_on_random_cells(world, date_cell, hours, aura, meds, note):
    text = (
        "date,headache,hours,severity,aura,aura_minutes,medications,triptan_or_ergot_relief,note\n"
        f'"{date_cell}",1,"{hours}",2,1,"{aura}","{meds}",0,"{note}"\n'
    )
    DiaryDay.objects.filter(patient=world.patient).delete()
    response = world.client("nurse").post(
        f"/diaries/patients/{world.patient.pk}/import/",
        {"file": SimpleUploadedFile("d.csv", text.encode("utf-8", "surrogatepass"))},
    )
    assert response.status_code in (302, 422)
    job = DiaryImport.objects.latest("pk")
    assert job.status in ("done", "failed")
    if job.status == "failed":
        assert not DiaryDay.objects.filter(patient=world.patient).exists()
        assert all(e["line"] in (0, 2) for e in job.errors)


@DB
@given(first=FREE_TEXT, last=FREE_TEXT, dob=DATES)
def test_patient_registration_never_fails_on_random_input(world, first, last, dob):
    from bontrack.patients.models import Patient

    before = Patient.objects.count()
    fields = {"first_name": first, "last_name": last, "date_of_birth": dob}
    form = world.client("front_desk").post(
        "/patients/new/",
        {"clinic": world.clinic.pk, "sex": "female", "status": "active", **fields}
        | {"preferred_contact": "email", "preferred_language": "en"},
    )
    assert form.status_code in (302, 422)
    api = world.client("front_desk").post(
        "/api/v1/patients/",
        data=json.dumps({"clinic_id": world.clinic.pk, **fields}),
        content_type="application/json",
    )
    assert api.status_code in (201, 409, 422)
    created = (form.status_code == 302) + (api.status_code == 201)
    assert Patient.objects.count() == before + created
    for patient in Patient.objects.all():
        assert parsing.text_problem(patient.first_name) is None
        assert parsing.DATE_MIN <= patient.date_of_birth <= parsing.DATE_MAX
