"""A large CSV import runs in a real background thread against the real database."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from bontrack.audit.models import AuditEvent
from bontrack.diaries import csvio, services
from bontrack.diaries.models import DiaryDay, DiaryImport, DiaryMedication

HEADER = (
    "date,headache,hours,severity,unilateral,pulsating,nausea,medications,triptan_or_ergot_relief\n"
)


def _big_file(days: int) -> str:
    rng = random.Random(4)
    today = services.local_today()
    lines = [HEADER]
    for k in range(1, days + 1):
        d = (today - timedelta(days=k)).isoformat()
        if rng.random() < 0.5:
            lines.append(f"{d},1,{rng.choice((3, 6, 9))},{rng.randint(1, 3)},1,1,0,sumatriptan,1\n")
        else:
            lines.append(f"{d},0,,0,0,0,0,,0\n")
    return "".join(lines)


def _join_thread(job_id: int, seconds: float = 120) -> None:
    for t in threading.enumerate():
        if t.name == f"{csvio.THREAD_PREFIX}{job_id}":
            t.join(seconds)
            assert not t.is_alive(), "the import thread did not finish"


def _wait_until_finished(job_id: int, seconds: float = 120) -> DiaryImport:
    deadline = time.monotonic() + seconds
    seen: set[str] = set()
    while time.monotonic() < deadline:
        job = DiaryImport.objects.get(pk=job_id)
        seen.add(job.status)
        if job.status in {"done", "failed"}:
            return job
        time.sleep(0.1)
    raise AssertionError(f"the import did not finish (states seen: {sorted(seen)})")


on_postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared in-memory test database locks whole tables across threads, so "
    "requests cannot poll while the thread writes (the test below covers SQLite)",
)


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_imports_a_large_file_end_to_end(world, cm_patient, monkeypatch):
    # Given a file above the inline limit, progress written every 2,000 rows
    monkeypatch.setattr(csvio, "CHUNK_ROWS", 2_000)
    text = _big_file(9_000)
    assert len(text.encode()) > csvio.INLINE_MAX_BYTES
    # When it is started as an upload would be (the size sends it to a thread)
    job = csvio.start_import(
        actor=world.users["nurse"],
        practice=world.practice,
        patient=cm_patient,
        upload=SimpleUploadedFile("paper-diary.csv", text.encode(), content_type="text/csv"),
    )
    assert any(t.name == f"{csvio.THREAD_PREFIX}{job.pk}" for t in threading.enumerate()) or (
        DiaryImport.objects.get(pk=job.pk).finished
    )
    _join_thread(job.pk)
    # Then every row is in, progress is complete, and the import is audited
    job.refresh_from_db()
    assert job.status == "done", job.errors
    assert job.total_rows == job.processed_rows == job.written_rows == 9_000
    assert job.percent == 100 and job.finished_at is not None
    assert DiaryDay.objects.filter(patient=cm_patient, source="import").count() == 9_000
    assert DiaryMedication.objects.filter(day__patient=cm_patient).count() == text.count(
        "sumatriptan"
    )
    assert AuditEvent.objects.filter(
        action="import", patient_id=cm_patient.pk, object_id=str(job.pk)
    ).exists()
    assert AuditEvent.objects.filter(
        action="import", object_type="diaries.diaryimport", patient_id=None, object_id=str(job.pk)
    ).exists()
    page = world.client("nurse").get(f"/diaries/imports/{job.pk}/")
    assert b'value="100"' in page.content and b"every 1s" not in page.content


@on_postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_is_imported_by_the_background_thread(world, cm_patient, monkeypatch):
    # Given a file well above the inline limit (progress written every 2,000 rows)
    monkeypatch.setattr(csvio, "CHUNK_ROWS", 2_000)
    text = _big_file(9_000)
    assert len(text.encode()) > csvio.INLINE_MAX_BYTES
    client = world.client("nurse")

    # When the nurse uploads it
    response = client.post(
        f"/diaries/patients/{cm_patient.pk}/import/",
        {"file": SimpleUploadedFile("paper-diary.csv", text.encode(), content_type="text/csv")},
    )

    # Then the request returns at once to the polling page, and the thread finishes the job
    assert response.status_code == 302
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    page = client.get(response["Location"])
    assert page.status_code == 200
    job = _wait_until_finished(job_id)
    _join_thread(job_id)
    assert job.status == "done", job.errors
    assert job.total_rows == job.processed_rows == job.written_rows == 9_000
    assert job.percent == 100
    assert DiaryDay.objects.filter(patient=cm_patient, source="import").count() == 9_000
    meds = DiaryMedication.objects.filter(day__patient=cm_patient).count()
    assert meds == text.count("sumatriptan")
    assert AuditEvent.objects.filter(
        action="import", patient_id=cm_patient.pk, object_id=str(job_id)
    ).exists()
    assert AuditEvent.objects.filter(
        action="import", object_type="diaries.diaryimport", patient_id=None, object_id=str(job_id)
    ).exists()
    # And the progress page shows 100% without polling any more
    page = client.get(f"/diaries/imports/{job_id}/")
    assert b'value="100"' in page.content and b"every 1s" not in page.content
    assert b"Imported 9000 days" in page.content or b"Imported 9,000 days" in page.content


@on_postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_large_file_with_one_bad_row_imports_nothing_in_the_background(world, cm_patient):
    text = _big_file(9_000)
    lines = text.splitlines(keepends=True)
    lines[4_500] = "2020-02-30,1,5,2,1,1,0,,0\n"
    response = world.client("nurse").post(
        f"/diaries/patients/{cm_patient.pk}/import/",
        {"file": SimpleUploadedFile("bad.csv", "".join(lines).encode(), content_type="text/csv")},
    )
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    job = _wait_until_finished(job_id)
    _join_thread(job_id)
    assert job.status == "failed"
    assert job.errors[0]["line"] == 4_501
    assert not DiaryDay.objects.filter(patient=cm_patient).exists()
    assert not AuditEvent.objects.filter(action="import").exists()
