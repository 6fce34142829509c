"""Diary CSV: odd cells and encodings are refused per row with a plain message (never a 500);
the export neutralises spreadsheet formulas and still imports back to the same diary."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import actors
from bontrack.diaries.csv import export as csv_export
from bontrack.diaries.csv import jobs as csv_jobs
from bontrack.diaries.models import DiaryDay, DiaryImport

pytestmark = pytest.mark.django_db

HEADER = "date,headache,hours,severity,aura,aura_minutes,medications,triptan_or_ergot_relief,note\n"


def _upload(client, pk, data: bytes, name="diary.csv"):
    return client.post(
        f"/diaries/patients/{pk}/import/",
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def _day(k=3):
    return actors.local_today() - timedelta(days=k)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{d},1,NaN,2,0,,,0,", "hours"),
        ("{d},1,Infinity,2,0,,,0,", "hours"),
        ("{d},1,1e1,2,0,,,0,", "hours"),
        ("{d},1,٣,2,0,,,0,", "hours"),
        ("{d},1," + "9" * 5000 + ",2,0,,,0,", "hours"),
        ("{d},1,4,2,1," + "9" * 5000 + ",,0,", "aura_minutes"),
        ("{d},1,4,2,1,٣,,0,", "aura_minutes"),
        ("{d},1,4,2,1,1_0,,0,", "aura_minutes"),
        ("{d},1,4,2,0,,ibuprofen:²,0,", "medications"),
        ("{d},1,4,2,0,,ibuprofen:" + "9" * 5000 + ",0,", "medications"),
        ("0001-01-01,1,4,2,0,,,0,", "date"),
        ("١٩٩٩-01-01,1,4,2,0,,,0,", "date"),
        ("{d},1,4,2,0,,,0,bad\u202etext", "note"),
        ("{d},1,4,2,0,,,0,bell\x07", "note"),
        ("{d},1,4,2,0,,Pain\u202eX@nsaid,0,", "medications"),
    ],
)
def test_a_bad_cell_is_refused_with_its_row_number(world, cm_patient, row, message):
    text = HEADER + f"{_day(4)},0,,0,0,,,0,\n" + row.replace("{d}", str(_day())) + "\n"
    response = _upload(world.client("nurse"), cm_patient.pk, text.encode())
    assert response.status_code == 302
    job = DiaryImport.objects.get()
    assert job.status == "failed"
    assert [e["line"] for e in job.errors] == [3]
    assert job.errors[0]["error"].startswith(message)
    assert not DiaryDay.objects.exists()
    assert not AuditEvent.objects.filter(action="import").exists()


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("latin-1", "not UTF-8"),
        ("cp1252", "not UTF-8"),
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
    ],
)
def test_a_file_that_is_not_utf8_is_refused_and_named(world, cm_patient, encoding, message):
    text = HEADER + f"{_day()},1,4,2,0,,,0,Kopfschmerz nach Café\n"
    response = _upload(world.client("nurse"), cm_patient.pk, text.encode(encoding))
    assert response.status_code == 302
    job = DiaryImport.objects.get()
    assert job.status == "failed"
    assert message in job.errors[0]["error"]
    assert not DiaryDay.objects.exists()
    page = world.client("nurse").get(f"/diaries/imports/{job.pk}/")
    assert page.status_code == 200 and "CSV UTF-8" in page.content.decode()


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_or_without_bom_is_imported(world, cm_patient, bom):
    text = HEADER + f"{_day()},1,4,2,0,,,0,Kopfschmerz nach Café\n"
    _upload(world.client("nurse"), cm_patient.pk, bom + text.encode())
    job = DiaryImport.objects.get()
    assert job.status == "done", job.errors
    assert DiaryDay.objects.get().note == "Kopfschmerz nach Café"


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\r=1"]


@pytest.mark.parametrize("note", FORMULAS)
def test_the_export_neutralises_formulas_and_imports_back(world, cm_patient, note):
    day = _day()
    DiaryDay.objects.create(
        patient=cm_patient, date=day, headache=False, note=note.strip(), source="patient"
    )
    text = "".join(csv_export.export_rows(cm_patient))
    rows = list(csv.reader(io.StringIO(text)))
    cell = rows[1][rows[0].index("note")]
    assert cell == "'" + note.strip() if note.strip()[0] in "=+-@" else True
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    # The export imports back to the same diary (the quote is the export's, not the note's).
    DiaryDay.objects.all().delete()
    job = csv_jobs.start_import(
        actor=world.users["nurse"],
        practice=world.practice,
        patient=cm_patient,
        upload=SimpleUploadedFile("x.csv", text.encode()),
    )
    assert job.status == "done", job.errors
    assert DiaryDay.objects.get().note == note.strip()


def test_the_staff_export_download_is_neutralised(world, cm_patient):
    DiaryDay.objects.create(
        patient=cm_patient,
        date=_day(),
        headache=False,
        note='=HYPERLINK("http://evil","x")',
        source="patient",
    )
    for url in (
        f"/diaries/patients/{cm_patient.pk}/export.csv",
        f"/api/v1/diaries/patients/{cm_patient.pk}/days.csv",
    ):
        response = world.client("nurse").get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content).decode()
        assert ",'=HYPERLINK(" in body.replace("\"'=", ",'=") or "'=HYPERLINK" in body
        assert ",=HYPERLINK" not in body and ',"=HYPERLINK' not in body
