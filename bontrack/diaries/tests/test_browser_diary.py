"""A patient logs a week of diary on a phone, in headless Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bontrack.browser import chromium_page
from bontrack.diaries.actions import actors
from bontrack.diaries.models import DiaryDay
from bontrack.factories import TEST_PASSWORD
from bontrack.patients.models import Condition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_logs_a_week_of_diary_on_a_phone(world, live_server):
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    today = actors.local_today()
    with chromium_page(viewport={"width": 390, "height": 844}) as page:
        page.goto(f"{live_server.url}/portal/login/")
        page.get_by_label("Username").fill(world.users["patient"].username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/portal/")
        page.goto(f"{live_server.url}/portal/diary/")
        assert "31 missing days" in page.content()
        for k in range(6, -1, -1):
            day = today - timedelta(days=k)
            page.get_by_role("link", name=day.strftime("%A %-d %B") + ": missing").click()
            page.wait_for_url(f"**/portal/diary/day/{day.isoformat()}/")
            if k % 2:
                page.get_by_role("button", name="No headache").click()
            else:
                page.get_by_label("How many hours?").fill("6")
                page.get_by_label("Severe").check()
                page.get_by_label("One side of the head").check()
                page.get_by_label("Pulsating or throbbing").check()
                page.get_by_label("Nausea").check()
                page.get_by_label("Sumatriptan").check()
                page.get_by_label("A triptan or ergot helped").check()
                page.get_by_role("button", name="Save my headache day").click()
            page.wait_for_url("**/portal/diary/?saved=*")
        assert "24 missing days" in page.content()
        assert "Today is filled in" in page.content()
    days = list(DiaryDay.objects.filter(patient=world.patient).order_by("date"))
    assert len(days) == 7
    assert [d.headache for d in days] == [k % 2 == 0 for k in range(6, -1, -1)]
    assert all(d.source == "patient" for d in days)
    migraine = days[-1]
    assert migraine.severity == 3 and migraine.triptan_or_ergot_relief
    assert [m.name for m in migraine.medications.all()] == ["Sumatriptan"]
