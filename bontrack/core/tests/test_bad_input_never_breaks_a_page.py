"""Security issue 8, item 4: input that used to answer 500 now answers a plain 4xx and changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import actors
from bontrack.diaries.models import DiaryDay
from bontrack.patients.models import Condition, PriorTreatment
from bontrack.scheduling.tests.conftest import sched  # noqa: F401 - fixture
from bontrack.treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

NON_ASCII_DIGITS = ["²", "٣", "１", "1_000", "９９"]


def _json(client, method, url, body):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


# ---- query parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*NON_ASCII_DIGITS, "9" * 40, "-1"])
@pytest.mark.parametrize("param", ["clinician", "room"])
def test_the_calendar_ignores_a_filter_that_is_not_an_id(world, sched, param, value):  # noqa: F811
    response = world.client("front_desk").get("/schedule/", {param: value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", [*NON_ASCII_DIGITS, "9" * 40])
def test_the_waitlist_ignores_a_patient_that_is_not_an_id(world, sched, value):  # noqa: F811
    response = world.client("front_desk").get("/schedule/waitlist/", {"patient": value})
    assert response.status_code == 200


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "２０２６-01-01"])
def test_calendar_dates_out_of_range_show_today(world, sched, day):  # noqa: F811
    for view in ("day", "week"):
        response = world.client("front_desk").get("/schedule/", {"date": day, "view": view})
        assert response.status_code == 200


@pytest.mark.parametrize("slot", ["00010101T0000Z", "99991231T2359Z", "２０２６0601T1400Z"])
def test_a_booking_url_with_an_impossible_slot_is_not_found(world, sched, slot):  # noqa: F811
    atype = sched.type("consult")
    atype.self_bookable = True
    atype.save()
    url = f"/book/{world.practice.slug}/{sched.clinic.slug}/{atype.code}/{slot}/"
    assert world.client("anonymous").get(url).status_code == 404


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_diary_day_pages_out_of_range_are_not_found(world, day):
    assert world.client("patient").get(f"/portal/diary/day/{day}/").status_code == 404
    url = f"/diaries/patients/{world.patient.pk}/day/{day}/"
    assert world.client("nurse").get(url).status_code == 404


# ---- diary medicine doses (staff and portal) ------------------------------------------------------


def _day_post(doses: str) -> dict[str, str]:
    return {
        "headache": "yes",
        "hours": "4",
        "severity": "2",
        "medicines": ["ibuprofen"],
        "doses_ibuprofen": doses,
    }


@pytest.mark.parametrize("doses", ["²", "٣", "1_0", "9" * 5000])
def test_a_patient_cannot_break_the_diary_with_odd_doses(world, doses):
    day = actors.local_today() - timedelta(days=1)
    response = world.client("patient").post(f"/portal/diary/day/{day}/", _day_post(doses))
    assert response.status_code == 422
    assert "Doses" in response.content.decode()
    assert not DiaryDay.objects.exists()


@pytest.mark.parametrize("doses", ["²", "٣", "1_0"])
def test_staff_transcription_refuses_odd_doses(world, doses):
    day = actors.local_today() - timedelta(days=1)
    url = f"/diaries/patients/{world.patient.pk}/day/{day}/"
    response = world.client("nurse").post(url, _day_post(doses))
    assert response.status_code == 422
    assert not DiaryDay.objects.exists()


def test_the_week_form_refuses_nan_hours(world):
    day = actors.local_today() - timedelta(days=1)
    key = f"d{day.isoformat()}"
    response = world.client("patient").post(
        "/portal/diary/week/",
        {f"{key}-state": "yes", f"{key}-hours": "NaN", f"{key}-severity": "2"},
    )
    assert response.status_code == 422
    assert not DiaryDay.objects.exists()


# ---- stored text with control characters ---------------------------------------------------------


@pytest.mark.parametrize("drug", ["Topira\nmate", "Topiramate\u202e", "\u202e"])
def test_a_stored_drug_name_with_control_characters_does_not_break_the_panel(world, drug):
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    PriorTreatment.objects.create(
        patient=world.patient, drug=drug, drug_class="anticonvulsant", outcome="ineffective"
    )
    physician = world.client("physician")
    assert physician.get(f"/diaries/patients/{world.patient.pk}/panel/").status_code == 200
    api = physician.get(f"/api/v1/diaries/patients/{world.patient.pk}/eligibility")
    assert api.status_code == 200, api.content


@pytest.mark.parametrize("drug", ["Topira\nmate", "Topiramate\u202e", "Topi\x85ramate"])
def test_a_drug_name_with_control_characters_is_refused_at_input(world, drug):
    response = world.client("physician").post(
        f"/patients/{world.patient.pk}/add/prior/",
        {"drug": drug, "drug_class": "anticonvulsant", "outcome": "ineffective"},
    )
    assert response.status_code == 422
    assert not PriorTreatment.objects.exists()


# ---- dates and date-times in the API ----------------------------------------------------------------


@pytest.mark.parametrize("performed_at", [0, 1700000000, "0", "0001-01-01T00:00:00Z"])
def test_a_session_time_must_be_an_iso_string_within_range(world, performed_at):
    response = _json(
        world.client("nurse"),
        "post",
        f"/api/v1/treatments/patients/{world.patient.pk}/sessions",
        {"performed_at": performed_at},
    )
    assert response.status_code == 422
    assert "performed_at" in response.json()["errors"]
    assert not TreatmentSession.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "٢٠٢٦-٠١-٠١"])
def test_a_diary_day_before_1900_is_refused(world, day):
    response = _json(
        world.client("nurse"),
        "put",
        f"/api/v1/diaries/patients/{world.patient.pk}/days",
        {"days": [{"date": day, "headache": False}]},
    )
    assert response.status_code == 422
    assert not DiaryDay.objects.exists()


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "1e1", "٣"])
def test_diary_hours_in_the_api_are_plain_numbers(world, hours):
    day = (actors.local_today() - timedelta(days=1)).isoformat()
    raw = hours if hours in ("NaN", "Infinity", "1e1") else json.dumps(hours)
    body = '{"days": [{"date": "DAY", "headache": true, "severity": 2, "hours": HOURS}]}'
    response = world.client("nurse").put(
        f"/api/v1/diaries/patients/{world.patient.pk}/days",
        data=body.replace("DAY", day).replace("HOURS", raw),
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert response.json()["detail"]
    assert not DiaryDay.objects.exists()


def test_a_query_id_with_underscores_is_refused(world, sched):  # noqa: F811
    response = world.client("front_desk").get(
        "/api/v1/scheduling/availability",
        {"type_id": "1_0", "start": "2026-06-01"},
    )
    assert response.status_code == 422
    assert "type_id" in response.json()["errors"]


# ---- API error format ------------------------------------------------------------------------------


@override_settings(DEBUG=True)
def test_a_body_over_the_limit_is_a_json_413_even_in_debug(world):
    body = json.dumps({"days": [{"date": "2026-01-01", "note": "x" * 1000}] * 2700})
    assert len(body) > 2.5 * 1024 * 1024
    response = world.client("nurse").put(
        f"/api/v1/diaries/patients/{world.patient.pk}/days",
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "detail": "The request body is too large (limit 2.5 MB).",
        "errors": {},
    }
    assert not DiaryDay.objects.exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_a_form_body_over_the_limit_is_the_413_page(world):
    response = world.client("physician").post(
        f"/diaries/patients/{world.patient.pk}/consultation/",
        {"history": "x" * (3 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert b"too large" in response.content


@pytest.mark.parametrize("debug", [True, False])
def test_every_api_error_is_json(world, debug):
    client = world.client("nurse")
    with override_settings(DEBUG=debug):
        cases = [
            (client.get("/api/v1/no-such-thing"), 404),
            (client.delete(f"/api/v1/diaries/patients/{world.patient.pk}/eligibility"), 405),
            (_json(client, "put", f"/api/v1/diaries/patients/{world.patient.pk}/days", "{"), 422),
        ]
        bad = client.put(
            f"/api/v1/diaries/patients/{world.patient.pk}/days",
            data="{not json",
            content_type="application/json",
        )
        cases.append((bad, 400))
    for response, status in cases:
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize("debug", [True, False])
def test_a_server_error_under_the_api_is_json_never_a_traceback(rf, debug):
    from bontrack.api import api
    from bontrack.core import http_errors

    request = rf.get("/api/v1/patients/")
    with override_settings(DEBUG=debug):
        inside = api.on_exception(request, RuntimeError("secret detail"))
        outside = http_errors.server_error(request)
    for response in (inside, outside):
        assert response.status_code == 500
        assert response["Content-Type"].startswith("application/json")
        assert b"secret detail" not in response.content and b"Traceback" not in response.content
        assert set(json.loads(response.content)) == {"detail", "errors"}
