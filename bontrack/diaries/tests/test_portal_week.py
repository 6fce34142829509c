"""A patient fills several missed days at once in the portal week view (back-fill rule kept)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import diary_days
from bontrack.diaries.models import DiaryDay
from conftest import portal_matrix

pytestmark = pytest.mark.django_db

WEEK = portal_matrix()
WEEK_SAVE = portal_matrix(ok=302)


def _key(d) -> str:
    return f"d{d.isoformat()}"


@pytest.mark.parametrize("persona,expected", WEEK.items())
def test_who_opens_the_week_view(world, cm_patient, frozen_today, persona, expected):
    response = world.client(persona).get("/portal/diary/week/")
    assert response.status_code == expected


@pytest.mark.parametrize("persona,expected", WEEK_SAVE.items())
def test_who_saves_days_from_the_week_view(world, cm_patient, frozen_today, persona, expected):
    before = (
        DiaryDay.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )
    day = frozen_today - timedelta(days=2)
    response = world.client(persona).post("/portal/diary/week/", {f"{_key(day)}-state": "no"})
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        owner = world.patient if persona == "patient" else world.other_patient
        assert DiaryDay.objects.get().patient == owner
    else:
        assert (
            DiaryDay.objects.count(),
            AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        ) == before


def test_three_missed_days_are_saved_in_one_go(world, cm_patient, frozen_today):
    # Given a patient who missed three days this week and filled one
    client = world.client("patient")
    filled = frozen_today - timedelta(days=1)
    diary_days.save_diary_day(
        actor=world.users["patient"],
        patient=cm_patient,
        data=diary_days.DayInput(date=filled, headache=False),
    )
    page = client.get("/portal/diary/week/")
    assert page.status_code == 200 and b"Filled in: no headache" in page.content
    d1, d2, d3 = (frozen_today - timedelta(days=k) for k in (2, 3, 4))
    # When they mark two headache-free days and one moderate 5-hour headache
    response = client.post(
        "/portal/diary/week/",
        {
            f"{_key(d1)}-state": "no",
            f"{_key(d2)}-state": "no",
            f"{_key(d3)}-state": "yes",
            f"{_key(d3)}-hours": "5",
            f"{_key(d3)}-severity": "2",
        },
    )
    # Then the three days are the patient's own entries, audited one by one
    assert response.status_code == 302
    rows = {d.date: d for d in DiaryDay.objects.filter(patient=cm_patient)}
    assert set(rows) == {filled, d1, d2, d3}
    assert rows[d3].headache and rows[d3].severity == 2 and rows[d3].hours == 5
    assert {rows[d].source for d in (d1, d2, d3)} == {"patient"}
    assert AuditEvent.objects.filter(action="create", object_type="diaries.diaryday").count() == 4
    home = client.get("/portal/diary/")
    assert b"moderate" in home.content


def test_a_bad_line_saves_none_of_the_week(world, cm_patient, frozen_today):
    client = world.client("patient")
    d1, d2 = (frozen_today - timedelta(days=k) for k in (1, 2))
    response = client.post(
        "/portal/diary/week/",
        {f"{_key(d1)}-state": "no", f"{_key(d2)}-state": "yes", f"{_key(d2)}-hours": "4"},
    )
    assert response.status_code == 422
    assert b"severity" in response.content.lower()
    assert not DiaryDay.objects.exists()


def test_the_week_view_stays_inside_the_back_fill_window(world, cm_patient, frozen_today):
    client = world.client("patient")
    too_old = frozen_today - timedelta(days=diary_days.BACKFILL_DAYS + 1)
    page = client.get(f"/portal/diary/week/?start={too_old.isoformat()}")
    assert page.status_code == 200
    assert too_old.strftime("%A %-d %B").encode() not in page.content
    response = client.post(
        f"/portal/diary/week/?start={too_old.isoformat()}", {f"{_key(too_old)}-state": "no"}
    )
    assert response.status_code == 422
    assert not DiaryDay.objects.exists()


def test_nothing_chosen_is_a_422(world, cm_patient, frozen_today):
    response = world.client("patient").post("/portal/diary/week/", {})
    assert response.status_code == 422
    assert b"at least one day" in response.content
