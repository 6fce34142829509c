"""CSV export and the all-or-nothing import with row errors and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import actors, diary_days
from bontrack.diaries.csv import export as csv_export
from bontrack.diaries.csv import jobs as csv_jobs
from bontrack.diaries.models import DiaryDay, DiaryDayRevision, DiaryImport
from bontrack.diaries.tests.conftest import build_diary

pytestmark = pytest.mark.django_db

HEADER = (
    "date,headache,hours,severity,unilateral,pulsating,nausea,medications,triptan_or_ergot_relief\n"
)


def _upload(client, pk, text, name="diary.csv"):
    return client.post(
        f"/diaries/patients/{pk}/import/",
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


def test_an_export_imports_back_to_the_same_diary(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=40)
    text = "".join(csv_export.export_rows(cm_patient))
    before = list(DiaryDay.objects.filter(patient=cm_patient).values("date", "headache", "hours"))
    job = csv_jobs.start_import(
        actor=world.users["nurse"],
        practice=world.practice,
        patient=cm_patient,
        upload=SimpleUploadedFile("x.csv", text.encode()),
    )
    assert job.status == "done", job.errors
    after = list(DiaryDay.objects.filter(patient=cm_patient).values("date", "headache", "hours"))
    assert before == after
    assert not DiaryDayRevision.objects.exists()


def test_a_good_file_is_imported_and_audited(world, cm_patient):
    day = actors.local_today() - timedelta(days=3)
    text = HEADER + f"{day},1,6,3,1,1,1,sumatriptan:2,1\n{day - timedelta(days=1)},0,,0,0,0,0,,0\n"
    response = _upload(world.client("nurse"), cm_patient.pk, text)
    job = DiaryImport.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/diaries/imports/{job.pk}/")
    assert job.status == "done" and job.written_rows == 2
    entry = DiaryDay.objects.get(patient=cm_patient, date=day)
    assert entry.source == "import"
    assert [(m.name, m.doses) for m in entry.medications.all()] == [("Sumatriptan", 2)]
    assert AuditEvent.objects.filter(action="import", patient_id=cm_patient.pk).count() == 1
    page = world.client("nurse").get(f"/diaries/imports/{job.pk}/")
    assert b"Imported 2 days" in page.content


def test_one_bad_row_imports_nothing_and_lists_the_rows(world, cm_patient):
    day = actors.local_today() - timedelta(days=3)
    text = HEADER + f"{day},1,6,3,1,1,1,,0\n{day},0,,0,0,0,0,,0\nnot-a-date,1,2,1,0,0,0,,0\n"
    _upload(world.client("nurse"), cm_patient.pk, text)
    job = DiaryImport.objects.get()
    assert job.status == "failed"
    assert [e["line"] for e in job.errors] == [3, 4]
    assert not DiaryDay.objects.exists()
    page = world.client("nurse").get(f"/diaries/imports/{job.pk}/")
    assert b"Nothing was imported" in page.content and b"use YYYY-MM-DD" in page.content


def test_an_import_that_changes_a_day_keeps_its_history(world, cm_patient):
    day = actors.local_today() - timedelta(days=3)
    diary_days.save_diary_day(
        actor=world.users["nurse"],
        patient=cm_patient,
        data=diary_days.DayInput(date=day, headache=False),
    )
    _upload(world.client("nurse"), cm_patient.pk, HEADER + f"{day},1,5,2,1,1,1,,0\n")
    entry = DiaryDay.objects.get(patient=cm_patient, date=day)
    assert entry.headache and entry.version == 2
    assert DiaryDayRevision.objects.get(day=entry).data["headache"] is False


def test_a_row_for_another_patient_is_refused(world, cm_patient):
    day = actors.local_today() - timedelta(days=3)
    text = "mrn," + HEADER.replace("\n", "") + f"\nA1-0002,{day},0,,0,0,0,0,,0\n"
    _upload(world.client("nurse"), cm_patient.pk, text)
    job = DiaryImport.objects.get()
    assert job.status == "failed" and "another patient" in job.errors[0]["error"]


def test_the_import_status_is_private_to_its_author(world, cm_patient):
    _upload(world.client("nurse"), cm_patient.pk, HEADER)
    job = DiaryImport.objects.get()
    assert world.client("physician").get(f"/diaries/imports/{job.pk}/").status_code == 404
    assert (
        world.client("other_practice_staff").get(f"/diaries/imports/{job.pk}/").status_code == 404
    )


def test_a_large_file_runs_in_the_background_and_the_page_polls(world, cm_patient, monkeypatch):
    monkeypatch.setattr(csv_jobs, "INLINE_MAX_BYTES", 10)
    day = actors.local_today() - timedelta(days=3)
    job = csv_jobs.start_import(
        actor=world.users["nurse"],
        practice=world.practice,
        patient=cm_patient,
        upload=SimpleUploadedFile("x.csv", (HEADER + f"{day},0,,0,0,0,0,,0\n").encode()),
        background=False,
    )
    assert job.status == "done"
    queued = DiaryImport.objects.create(
        practice=world.practice,
        patient=cm_patient,
        created_by=world.users["nurse"],
        file_name="big.csv",
        path="/nonexistent",
        total_rows=100,
        processed_rows=40,
        status="validating",
    )
    page = world.client("nurse").get(f"/diaries/imports/{queued.pk}/")
    assert b'hx-trigger="every 1s"' in page.content and b'value="40"' in page.content
