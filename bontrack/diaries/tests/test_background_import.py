"""A large CSV import is queued by the page and run by the worker process (`bontrack worker`),
against the real database; progress is read from the job row and the audit chain stays intact."""

from __future__ import annotations

import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from bontrack.audit.models import AuditEvent
from bontrack.core import jobs
from bontrack.diaries.actions import actors
from bontrack.diaries.csv import jobs as csv_jobs
from bontrack.diaries.csv import validate
from bontrack.diaries.models import DiaryDay, DiaryImport, DiaryMedication

HEADER = (
    "date,headache,hours,severity,unilateral,pulsating,nausea,medications,triptan_or_ergot_relief\n"
)


def _big_file(days: int) -> str:
    rng = random.Random(4)
    today = actors.local_today()
    lines = [HEADER]
    for k in range(1, days + 1):
        d = (today - timedelta(days=k)).isoformat()
        if rng.random() < 0.5:
            lines.append(f"{d},1,{rng.choice((3, 6, 9))},{rng.randint(1, 3)},1,1,0,sumatriptan,1\n")
        else:
            lines.append(f"{d},0,,0,0,0,0,,0\n")
    return "".join(lines)


def _upload(client, patient_id: int, name: str, text: str) -> int:
    response = client.post(
        f"/diaries/patients/{patient_id}/import/",
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )
    assert response.status_code == 302
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def _worker_once() -> str:
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    return out.getvalue()


def test_the_diary_import_runner_is_registered_with_the_worker():
    assert jobs.registered()["diaries.import"] is csv_jobs.run_queued


@pytest.mark.django_db(transaction=True)
def test_a_large_upload_is_queued_and_the_worker_imports_it(world, cm_patient, monkeypatch):
    # Given a file above the inline limit (progress written every 2,000 rows)
    monkeypatch.setattr(validate, "CHUNK_ROWS", 2_000)
    text = _big_file(9_000)
    assert len(text.encode()) > csv_jobs.INLINE_MAX_BYTES
    client = world.client("nurse")

    # When the nurse uploads it through the page
    job_id = _upload(client, cm_patient.pk, "paper-diary.csv", text)

    # Then nothing is imported in the request: the job waits in the database for the worker
    job = DiaryImport.objects.get(pk=job_id)
    assert job.status == "queued" and job.processed_rows == 0
    assert not DiaryDay.objects.filter(patient=cm_patient).exists()
    page = client.get(f"/diaries/imports/{job_id}/")
    assert b'hx-trigger="every 1s"' in page.content and b'value="0"' in page.content
    assert b"Queued" in page.content

    # When the worker runs once
    _worker_once()

    # Then every row is in, and the progress the page reads from the job row is complete
    job.refresh_from_db()
    assert job.status == "done", job.errors
    assert job.total_rows == job.processed_rows == job.written_rows == 9_000
    assert job.percent == 100 and job.finished_at is not None
    assert DiaryDay.objects.filter(patient=cm_patient, source="import").count() == 9_000
    meds = DiaryMedication.objects.filter(day__patient=cm_patient).count()
    assert meds == text.count("sumatriptan")
    page = client.get(f"/diaries/imports/{job_id}/")
    assert b'value="100"' in page.content and b"every 1s" not in page.content
    assert b"Imported 9000 days" in page.content

    # And the import is audited in the practice's chain, which still verifies
    assert AuditEvent.objects.filter(
        action="import", patient_id=cm_patient.pk, object_id=str(job_id)
    ).exists()
    assert AuditEvent.objects.filter(
        action="import", object_type="diaries.diaryimport", patient_id=None, object_id=str(job_id)
    ).exists()
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert f"practice {world.practice.pk}: intact" in out.getvalue()

    # And a second worker turn finds nothing more to do
    assert jobs.run_pending()["diaries.import"] == 0  # nothing left to import


@pytest.mark.django_db(transaction=True)
def test_a_large_file_with_one_bad_row_imports_nothing_in_the_worker(world, cm_patient):
    text = _big_file(9_000)
    lines = text.splitlines(keepends=True)
    lines[4_500] = "2020-02-30,1,5,2,1,1,0,,0\n"
    job_id = _upload(world.client("nurse"), cm_patient.pk, "bad.csv", "".join(lines))
    assert DiaryImport.objects.get(pk=job_id).status == "queued"

    _worker_once()

    job = DiaryImport.objects.get(pk=job_id)
    assert job.status == "failed"
    assert job.errors[0]["line"] == 4_501
    assert not DiaryDay.objects.filter(patient=cm_patient).exists()
    assert not AuditEvent.objects.filter(action="import").exists()
    page = world.client("nurse").get(f"/diaries/imports/{job_id}/")
    assert b"Nothing was imported" in page.content and b"every 1s" not in page.content


@pytest.mark.django_db(transaction=True)
def test_a_job_already_taken_is_not_run_twice(world, cm_patient):
    # Given a queued import that another worker has already moved on (validating)
    job_id = _upload(world.client("nurse"), cm_patient.pk, "big.csv", _big_file(9_000))
    DiaryImport.objects.filter(pk=job_id).update(status="validating")
    # When this worker looks for work, it does not take it
    assert csv_jobs.run_queued(10) == 0
    assert DiaryImport.objects.get(pk=job_id).status == "validating"
    assert not DiaryDay.objects.filter(patient=cm_patient).exists()


def test_a_failing_runner_does_not_stop_the_others(monkeypatch):
    calls: list[int] = []

    def broken(limit: int) -> int:
        raise RuntimeError("boom")

    def counting(limit: int) -> int:
        calls.append(limit)
        return 1

    monkeypatch.setattr(jobs, "_RUNNERS", {"broken": broken, "counting": counting})
    assert jobs.run_pending(limit=3) == {"broken": 0, "counting": 1}
    assert calls == [3]
