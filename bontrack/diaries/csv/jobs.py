"""The import job lifecycle: store the upload, create the job row, run it (in the request for
small files, in the worker for larger ones) and record progress and failure on the row.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.models import Practice
from bontrack.diaries.choices import ImportStatus
from bontrack.diaries.csv.progress import LAST_TIMINGS, _progress, _Timer
from bontrack.diaries.csv.validate import _validate
from bontrack.diaries.csv.write import _write
from bontrack.diaries.csv.write_postgres import _PgStage
from bontrack.diaries.models import (
    DiaryImport,
)
from bontrack.patients.models import Patient

log = logging.getLogger(__name__)

INLINE_MAX_BYTES = 256 * 1024  # larger files are queued for the worker; the page polls
MAX_BYTES = 200 * 1024 * 1024


def _imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _authorise(actor: User, practice: Practice, patient: Patient | None) -> None:
    scope = actor.scope(Perm.DIARY_EDIT) if getattr(actor, "is_staff_member", False) else None
    if scope is None or scope.practice_id != practice.pk:
        raise PermissionDenied("Your role does not allow diary imports.")
    if patient is not None and not scope.allows_clinic(patient.clinic_id):
        raise PermissionDenied("Your role does not allow this in that clinic.")


def start_import(
    *,
    actor: User,
    practice: Practice,
    upload: Any,
    patient: Patient | None = None,
    background: bool | None = None,
) -> DiaryImport:
    """Store the uploaded file and create its job; small files run now, larger ones are queued
    for the worker process (`bontrack worker`), which reports progress on the job row."""
    _authorise(actor, practice, patient)
    size = getattr(upload, "size", None) or 0
    if size > MAX_BYTES:
        raise ValidationError({"file": ["The file is larger than 200 MB."]})
    path = _imports_dir() / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            out.write(chunk)
    if background is None:
        background = path.stat().st_size > INLINE_MAX_BYTES
    job = DiaryImport.objects.create(
        practice=practice,
        patient=patient,
        created_by=actor,
        file_name=str(getattr(upload, "name", "diary.csv"))[:200],
        path=str(path),
        # A job run now is never queued, so no worker can take it as well.
        status=ImportStatus.QUEUED if background else ImportStatus.VALIDATING,
    )
    if background:
        return job  # the worker runs it (run_queued, registered in DiariesConfig.ready)
    run_import(job.pk)
    job.refresh_from_db()
    return job


def import_file(
    *, actor: User, practice: Practice, path: Path, patient: Patient | None = None
) -> DiaryImport:
    """Import a file on disk synchronously (management command, benchmark)."""
    _authorise(actor, practice, patient)
    job = DiaryImport.objects.create(
        practice=practice,
        patient=patient,
        created_by=actor,
        file_name=path.name[:200],
        path=str(path),
        status=ImportStatus.VALIDATING,
    )
    run_import(job.pk, keep_file=True)
    job.refresh_from_db()
    return job


def _claim(job_id: int) -> bool:
    """Move a queued job to validating; False when another process took it first."""
    return (
        DiaryImport.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.VALIDATING
        )
        == 1
    )


def run_queued(limit: int) -> int:
    """The worker's runner (`bontrack.core.jobs`): run up to `limit` queued imports, oldest first.

    A failing import is recorded on its row (status failed, the error) and the next one runs.
    """
    ran = 0
    queued = DiaryImport.objects.filter(status=ImportStatus.QUEUED).order_by("created_at", "pk")
    for job_id in list(queued.values_list("pk", flat=True)[:limit]):
        if not _claim(job_id):
            continue
        ran += 1
        try:
            run_import(job_id)
        except Exception:  # the job row records the failure
            log.exception("diary import %s failed", job_id)
    return ran


def run_import(job_id: int, *, keep_file: bool = False) -> None:
    job = DiaryImport.objects.select_related("created_by", "patient").get(pk=job_id)
    path = Path(job.path)
    LAST_TIMINGS.clear()
    stage = _PgStage() if connection.vendor == "postgresql" else None
    try:
        with _Timer("validate"):
            parsed = _validate(job, path, stage)
        if parsed is None:
            return
        _progress(job, status=ImportStatus.WRITING)
        with _Timer("write"):
            written = _write(job, parsed, stage)
        _progress(
            job,
            status=ImportStatus.DONE,
            written_rows=written,
            processed_rows=job.total_rows,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        _progress(
            job,
            status=ImportStatus.FAILED,
            errors=[{"line": 0, "error": f"import failed: {type(exc).__name__}"}],
            error_count=1,
            finished_at=timezone.now(),
        )
        raise
    finally:
        if stage is not None:
            stage.drop()
        if not keep_file:
            path.unlink(missing_ok=True)
