"""Validation pass of an import: parse every row in chunks, report progress, keep the errors."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.diaries.choices import ImportStatus
from bontrack.diaries.csv.format import (
    COLUMNS,
    NOT_UTF8,
    REQUIRED,
    RowError,
    RowParser,
    _encoding_problem,
    _unquote,
)
from bontrack.diaries.csv.progress import _progress
from bontrack.diaries.models import (
    DiaryImport,
)
from bontrack.patients.models import Patient

if TYPE_CHECKING:
    from bontrack.diaries.csv.write_postgres import _PgStage

CHUNK_ROWS = 20_000
MAX_ERRORS_KEPT = 200


class _Stop(Exception):
    pass


Parsed = list[tuple[int, date, tuple[Any, ...], list[tuple[str, str, int]]]]


def _validate(job: DiaryImport, path: Path, stage: _PgStage | None = None) -> Parsed | None:
    """Parse and check every row. Rows go to ``stage`` (PostgreSQL: COPY into a temporary
    staging table while parsing, which is not yet a write) or into the returned list."""
    _progress(job, status=ImportStatus.VALIDATING)
    today = timezone.localdate()
    scope = job.created_by.scope(Perm.DIARY_EDIT)
    patients: dict[str, int] = {}
    if job.patient_id is None and scope is not None:
        patients = {
            mrn.casefold(): pk
            for mrn, pk in Patient.objects.in_scope(scope).values_list("mrn", "pk")
        }
    encoding_problem = _encoding_problem(path)
    total = 0
    if encoding_problem is None:
        with path.open(newline="", encoding="utf-8-sig", errors="strict") as fh:
            total = max(sum(1 for _ in fh) - 1, 0)
        _progress(job, total_rows=total)
    errors: list[dict[str, Any]] = []
    error_count = 0
    out: Parsed = []
    seen: set[tuple[int, date]] = set()

    def fail(line: int, message: str) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < MAX_ERRORS_KEPT:
            errors.append({"line": line, "error": message})

    try:
        if encoding_problem is not None:
            fail(0, encoding_problem)
            raise _Stop
        with path.open(newline="", encoding="utf-8-sig", errors="strict") as fh:
            reader = csv.reader(fh)
            header = [h.strip().casefold() for h in next(reader, [])]
            idx = {h: i for i, h in enumerate(header)}
            unknown = [h for h in header if h not in COLUMNS]
            missing = REQUIRED - set(idx)
            if job.patient_id is None and "mrn" not in idx:
                missing.add("mrn")
            if unknown or missing or not header:
                msg = []
                if missing:
                    msg.append("missing column(s): " + ", ".join(sorted(missing)))
                if unknown:
                    msg.append("unknown column(s): " + ", ".join(unknown))
                fail(1, "; ".join(msg) or "the file is empty")
            else:
                mrn_i = idx.get("mrn")
                own_mrn = job.patient.mrn.casefold() if job.patient_id else None
                parse = RowParser(idx, today)
                for n, row in enumerate(reader, start=2):
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    try:
                        mrn = _unquote(row[mrn_i].strip()).casefold() if mrn_i is not None else ""
                        if job.patient_id is not None:
                            if mrn and mrn != own_mrn:
                                raise RowError("mrn: this file is for another patient")
                            pid = job.patient_id
                        else:
                            pid = patients.get(mrn)  # type: ignore[assignment]
                            if pid is None:
                                raise RowError("mrn: no patient with this MRN in your clinics")
                        day, values, meds = parse(row)
                        if (pid, day) in seen:
                            raise RowError("date: this day appears twice for the patient")
                        seen.add((pid, day))
                        if stage is None:
                            out.append((pid, day, values, meds))
                        elif not error_count:
                            stage.add(pid, day, values, meds)
                    except RowError as exc:
                        fail(n, str(exc))
                    if n % CHUNK_ROWS == 0:
                        if stage is not None and not error_count:
                            stage.flush()
                        _progress(job, processed_rows=n - 1)
    except _Stop:
        pass
    except UnicodeDecodeError:
        fail(0, NOT_UTF8)
    except csv.Error as exc:
        fail(0, f"not a readable CSV file ({exc})")
    if error_count:
        _progress(
            job,
            status=ImportStatus.FAILED,
            errors=errors,
            error_count=error_count,
            processed_rows=total,
            finished_at=timezone.now(),
        )
        return None
    if stage is not None:
        stage.flush()
    _progress(job, processed_rows=total)
    return out
