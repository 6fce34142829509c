"""Diary CSV export and import (columns documented in docs/diaries.md).

An import is a job row: the file is validated in chunks (progress is written to the job row
and polled by the page), then written all or nothing in one transaction. On PostgreSQL the
rows go through ``COPY`` into a temporary table and one set-based upsert; elsewhere through
``bulk_create``/``bulk_update``. Existing days that change keep their previous state as a
``DiaryDayRevision``; one audit row per patient touched says who imported what.
"""

from __future__ import annotations

import codecs
import csv
import io
import operator
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.audit.models import AuditEvent
from bontrack.core import context, csvexport
from bontrack.core.models import Practice
from bontrack.core.parsing import ParseError, parse_date, parse_decimal, parse_int, text_problem
from bontrack.diaries.choices import MEDICINES, AcuteClass, DiarySource, ImportStatus, medicine_key
from bontrack.diaries.models import (
    FEATURES,
    DiaryDay,
    DiaryDayRevision,
    DiaryImport,
    DiaryMedication,
)
from bontrack.patients.models import Patient

COLUMNS = [
    "mrn",
    "date",
    "headache",
    "hours",
    "severity",
    *FEATURES,
    "aura_minutes",
    "medications",
    "triptan_or_ergot_relief",
    "note",
    "source",
]
REQUIRED = {"date", "headache"}
CHUNK_ROWS = 20_000
INLINE_MAX_BYTES = 256 * 1024  # larger files run in a background thread; the page polls
MAX_ERRORS_KEPT = 200
MAX_BYTES = 200 * 1024 * 1024
THREAD_PREFIX = "diary-import-"  # background threads are named diary-import-<job id>
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f", ""}
_LABEL_KEYS = {v[0].casefold(): k for k, v in MEDICINES.items()}


def _bool(value: str) -> bool | None:
    v = value.strip().casefold()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    return None


# ---- export ------------------------------------------------------------------------------------


def _fmt_bool(v: bool) -> str:
    return "1" if v else "0"


def format_medications(meds: Iterable[tuple[str, str, int]]) -> str:
    out = []
    for name, cls, doses in meds:
        key = medicine_key(name) or _LABEL_KEYS.get(name.casefold())
        token = key if key else f"{name}@{cls}"
        out.append(token if doses == 1 else f"{token}:{doses}")
    return ";".join(out)


def export_rows(patient: Patient) -> Iterator[str]:
    """CSV lines of a patient's diary, oldest first (two queries)."""
    buf = io.StringIO()
    writer = csvexport.writer(buf)
    writer.writerow(COLUMNS)
    yield buf.getvalue()
    meds: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for day_id, name, cls, doses in (
        DiaryMedication.objects.filter(day__patient=patient)
        .order_by("id")
        .values_list("day_id", "name", "drug_class", "doses")
    ):
        meds[day_id].append((name, cls, doses))
    fields = [
        "id",
        "date",
        "headache",
        "hours",
        "severity",
        *FEATURES,
        "aura_minutes",
        "triptan_or_ergot_relief",
        "note",
        "source",
    ]
    rows = DiaryDay.objects.filter(patient=patient).order_by("date").values_list(*fields)
    for r in rows.iterator(chunk_size=2000):
        buf.seek(0)
        buf.truncate()
        rec = dict(zip(fields, r, strict=True))
        writer.writerow(
            [
                patient.mrn,
                rec["date"].isoformat(),
                _fmt_bool(rec["headache"]),
                "" if rec["hours"] is None else f"{rec['hours']:g}",
                rec["severity"],
                *(_fmt_bool(rec[f]) for f in FEATURES),
                "" if rec["aura_minutes"] is None else rec["aura_minutes"],
                format_medications(meds.get(rec["id"], [])),
                _fmt_bool(rec["triptan_or_ergot_relief"]),
                rec["note"],
                rec["source"],
            ]
        )
        yield buf.getvalue()


# ---- parsing -----------------------------------------------------------------------------------


class RowError(Exception):
    pass


def parse_medications(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    if not text.strip():
        return out
    for raw in text.split(";"):
        token = raw.strip()
        if not token:
            continue
        doses = 1
        if ":" in token:
            token, _, n = token.rpartition(":")
            try:
                doses = parse_int(n, min_value=1, max_value=50, max_digits=2)
            except ParseError as exc:
                raise RowError(f"medications: doses of {token[:40]!r} must be 1 to 50") from exc
        if "@" in token:
            name, _, cls = token.partition("@")
            name, cls = name.strip(), cls.strip()
            if cls not in AcuteClass.values:
                raise RowError(f"medications: unknown class {cls!r}")
            if not name or len(name) > 100:
                raise RowError("medications: a name of 1 to 100 characters is needed")
            if text_problem(name):
                raise RowError(f"medications: {text_problem(name)}")
            out.append((name, cls, doses))
            continue
        key = medicine_key(token) or _LABEL_KEYS.get(token.strip().casefold())
        if key is None:
            raise RowError(
                f"medications: {token[:40]!r} is not on the medicine list (use name@class)"
            )
        label, cls = MEDICINES[key]
        out.append((label, str(cls), doses))
    if len(out) > 20:
        raise RowError("medications: at most 20 a day")
    return out


_BOOLS = dict.fromkeys(TRUE, True) | dict.fromkeys(FALSE, False)
_HOURS: dict[str, Decimal] = {}
_Q = Decimal("0.1")
_H0, _H24 = Decimal(0), Decimal(24)
_FEATURE_AURA = FEATURES.index("aura")


def _b(value: str) -> bool | None:
    b = _BOOLS.get(value)
    return b if b is not None else _BOOLS.get(value.strip().casefold())


def _unquote(cell: str) -> str:
    """Undo the export's formula neutralisation (``'=...`` back to ``=...``)."""
    if cell.startswith("'") and cell[1:2] and cell[1:2] in "=+-@\t\r":
        return cell[1:]
    return cell


class RowParser:
    """Parses rows of one file (column positions resolved once; hot loop for big imports).

    Mirrors services.validate_day (the same consistency rules as clinic_rules' diary-day
    schema) on CSV text."""

    MEMO_MAX = 50_000

    def __init__(self, idx: dict[str, int], today: date) -> None:
        self.width = max(idx.values(), default=-1) + 1
        # A missing column reads the empty cell appended to every row (index -1).
        self.i = {c: idx.get(c, -1) for c in COLUMNS}
        self.feats = [self.i[f] for f in FEATURES]
        self.today = today
        # The day's values depend only on the cells other than mrn and date, and diaries
        # repeat (most rows are one of a few dozen shapes): parse each shape once. The
        # cached values and medicine lists are shared between rows; nobody mutates them.
        others = [self.i[c] for c in COLUMNS if c not in ("mrn", "date", "source")]
        self.key = operator.itemgetter(*others)
        self.memo: dict[tuple[str, ...], tuple[tuple[Any, ...], list[tuple[str, str, int]]]] = {}

    def __call__(self, row: list[str]) -> tuple[date, tuple[Any, ...], list[tuple[str, str, int]]]:
        if len(row) != self.width:
            row = (row + [""] * self.width)[: self.width]
        row.append("")
        i = self.i
        try:
            day = parse_date(row[i["date"]])
        except ParseError as exc:
            message = "use YYYY-MM-DD" if "YYYY" in str(exc) else str(exc)
            raise RowError(f"date: {message}") from exc
        if day > self.today:
            raise RowError("date: a diary day cannot be in the future")
        key = self.key(row)
        hit = self.memo.get(key)
        if hit is not None:
            return day, hit[0], hit[1]
        values, meds = self.values(row)
        if len(self.memo) < self.MEMO_MAX:
            self.memo[key] = (values, meds)
        return day, values, meds

    def values(self, row: list[str]) -> tuple[tuple[Any, ...], list[tuple[str, str, int]]]:
        i = self.i
        raw_h = row[i["headache"]]
        headache = _b(raw_h)
        if headache is None or not raw_h.strip():
            raise RowError("headache: 1/0, yes/no or true/false")
        hours_raw = row[i["hours"]]
        hours: Decimal | None = None
        if hours_raw:
            hours = _HOURS.get(hours_raw)
            if hours is None:
                try:
                    hours = parse_decimal(
                        hours_raw, min_value=_H0, max_value=_H24, whole_digits=2
                    ).quantize(_Q)
                except ParseError as exc:
                    raise RowError("hours: a number from 0 to 24") from exc
                if len(_HOURS) < 1000:
                    _HOURS[hours_raw] = hours
        sev_raw = row[i["severity"]].strip() or "0"
        if sev_raw not in ("0", "1", "2", "3"):
            raise RowError("severity: 0 none, 1 mild, 2 moderate, 3 severe")
        severity = int(sev_raw)
        feats = []
        for k, fi in enumerate(self.feats):
            v = _b(row[fi])
            if v is None:
                raise RowError(f"{FEATURES[k]}: 1/0, yes/no or true/false")
            feats.append(v)
        aura_raw = row[i["aura_minutes"]].strip()
        aura_minutes = None
        if aura_raw:
            try:
                aura_minutes = parse_int(aura_raw, min_value=0, max_value=1440, max_digits=4)
            except ParseError as exc:
                raise RowError("aura_minutes: whole minutes, 0 to 1440") from exc
            if not feats[_FEATURE_AURA]:
                raise RowError("aura_minutes: given without aura")
        med_raw = _unquote(row[i["medications"]])
        meds = parse_medications(med_raw) if med_raw else []
        relief = _b(row[i["triptan_or_ergot_relief"]])
        if relief is None:
            raise RowError("triptan_or_ergot_relief: 1/0, yes/no or true/false")
        if relief and not {m[1] for m in meds} & {"triptan", "ergot"}:
            raise RowError("triptan_or_ergot_relief: needs a triptan or ergot in medications")
        if headache:
            if severity == 0:
                raise RowError("severity: a headache day needs severity 1-3")
        else:
            if hours or severity:
                raise RowError("headache: a headache-free day cannot have hours or severity")
            if True in feats:
                raise RowError("headache: features are only for a day with headache")
            hours = None
        note = row[i["note"]]
        if note:
            note = _unquote(note.strip())
            if len(note) > 500:
                raise RowError("note: at most 500 characters")
            problem = text_problem(note, multiline=True)
            if problem:
                raise RowError(f"note: {problem}")
        return (headache, hours, severity, *feats, aura_minutes, relief, note), meds


def parse_row(
    row: list[str], idx: dict[str, int], today: date
) -> tuple[date, tuple[Any, ...], list[tuple[str, str, int]]]:
    return RowParser(idx, today)(list(row))


DAY_COLUMNS = [
    "headache",
    "hours",
    "severity",
    *FEATURES,
    "aura_minutes",
    "triptan_or_ergot_relief",
    "note",
]


# ---- jobs --------------------------------------------------------------------------------------


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
    """Store the uploaded file and create its job; small files run now, large ones in a thread."""
    _authorise(actor, practice, patient)
    size = getattr(upload, "size", None) or 0
    if size > MAX_BYTES:
        raise ValidationError({"file": ["The file is larger than 200 MB."]})
    path = _imports_dir() / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            out.write(chunk)
    job = DiaryImport.objects.create(
        practice=practice,
        patient=patient,
        created_by=actor,
        file_name=str(getattr(upload, "name", "diary.csv"))[:200],
        path=str(path),
    )
    if background is None:
        background = path.stat().st_size > INLINE_MAX_BYTES
    if background:
        ctx = context.current()
        transaction.on_commit(
            lambda: threading.Thread(
                target=_run_in_thread,
                args=(job.pk, ctx),
                name=f"{THREAD_PREFIX}{job.pk}",
                daemon=True,
            ).start()
        )
    else:
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
    )
    run_import(job.pk, keep_file=True)
    job.refresh_from_db()
    return job


def _run_in_thread(job_id: int, ctx: Any) -> None:
    token = context.activate(ctx)
    try:
        run_import(job_id)
    except Exception:  # noqa: BLE001, S110 - the job row records the failure
        pass
    finally:
        context.deactivate(token)
        close_old_connections()
        connection.close()


def _progress(job: DiaryImport, **fields: Any) -> None:
    for k, v in fields.items():
        setattr(job, k, v)
    DiaryImport.objects.filter(pk=job.pk).update(**fields)


# Seconds per phase of the last import in this process (printed by bench/bench_diaries.py).
LAST_TIMINGS: dict[str, float] = {}


class _Timer:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        LAST_TIMINGS[self.name] = LAST_TIMINGS.get(self.name, 0) + time.perf_counter() - self.t0


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


Parsed = list[tuple[int, date, tuple[Any, ...], list[tuple[str, str, int]]]]

NOT_UTF8 = (
    "The file is not UTF-8 text (it may be Latin-1 or Windows-1252): "
    'save it as "CSV UTF-8" and import it again.'
)
UTF16 = 'The file is UTF-16 text: save it as "CSV UTF-8" and import it again.'


class _Stop(Exception):
    pass


def _encoding_problem(path: Path) -> str | None:
    """UTF-8 with or without BOM is accepted; anything else is named and refused."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
            return UTF16
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return NOT_UTF8
    return None


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


def _write(job: DiaryImport, parsed: Parsed, stage: _PgStage | None = None) -> int:
    with transaction.atomic(durable=True):
        if stage is not None:
            per_patient = _write_postgres(job, stage)
        else:
            per_patient = _write_generic(job, parsed)
        with _Timer("audit"):
            if stage is not None:
                _audit_job(job, per_patient)
            else:
                _audit(job, per_patient)
        t_commit = time.perf_counter()
    LAST_TIMINGS["commit"] = time.perf_counter() - t_commit
    return stage.rows if stage is not None else len(parsed)


def _audit_rows(job: DiaryImport, rows: list[tuple[int, int | None, int, int]]) -> None:
    """(patient, clinic, created, updated) -> one chained audit row each."""
    user = job.created_by
    ctx = context.current()
    audit.append_many(
        [
            AuditEvent(
                actor=user,
                actor_label=user.get_username()[:150],
                role=user.role_in(clinic_id)[:120],
                practice_id=job.practice_id,
                clinic_id=clinic_id,
                patient_id=pid,
                action="import",
                object_type="diaries.diaryimport",
                object_id=str(job.pk),
                channel=ctx.channel,
                source_ip=ctx.source_ip,
                request_id=ctx.request_id,
                summary=f"Imported diary days from {job.file_name[:100]}: "
                f"{created} new, {updated} changed",
                changes={"created": [None, created], "updated": [None, updated]},
            )
            for pid, clinic_id, created, updated in rows
        ]
    )


def _audit(job: DiaryImport, per_patient: dict[int, list[int]]) -> None:
    """One audit row per patient touched, and one for the job (bulk: millions of rows)."""
    clinics = dict(Patient.objects.filter(pk__in=list(per_patient)).values_list("pk", "clinic_id"))
    _audit_rows(
        job,
        [
            (pid, clinics.get(pid), created, updated)
            for pid, (created, updated) in per_patient.items()
            if created or updated
        ],
    )
    user = job.created_by
    audit.record(
        actor=user,
        action="import",
        object_type="diaries.diaryimport",
        object_id=str(job.pk),
        practice_id=job.practice_id,
        changes={"rows": [None, sum(a + b for a, b in per_patient.values())]},
        summary=f"Diary import {job.file_name[:100]}: {len(per_patient)} patient(s)",
    )


def _audit_job(job: DiaryImport, per_patient: dict[int, list[int]]) -> None:
    audit.record(
        actor=job.created_by,
        action="import",
        object_type="diaries.diaryimport",
        object_id=str(job.pk),
        practice_id=job.practice_id,
        changes={"rows": [None, sum(a + b for a, b in per_patient.values())]},
        summary=f"Diary import {job.file_name[:100]}: {len(per_patient)} patient(s)",
    )


def _audit_patients_sql(cur: Any, job: DiaryImport) -> None:
    """One audit row per patient touched, counted set-based from the staging table and appended to
    the practice's audit chain in one batch (audit.append_many)."""
    cur.execute(
        """
        SELECT c.patient_id, p.clinic_id, c.created, c.updated
        FROM (SELECT patient_id, count(*) FILTER (WHERE day_id IS NULL) AS created,
                     count(*) FILTER (WHERE changed) AS updated
              FROM diary_stage GROUP BY patient_id) c
        JOIN patients_patient p ON p.id = c.patient_id
        WHERE c.created + c.updated > 0
        ORDER BY c.patient_id
        """
    )
    _audit_rows(
        job, [(pid, clinic_id, created, updated) for pid, clinic_id, created, updated in cur]
    )


def _write_generic(job: DiaryImport, parsed: Parsed) -> dict[int, list[int]]:
    per_patient: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    user = job.created_by
    for start in range(0, len(parsed), 2000):
        chunk = parsed[start : start + 2000]
        pids = {p for p, *_ in chunk}
        lo = min(d for _, d, *_ in chunk)
        hi = max(d for _, d, *_ in chunk)
        existing = {
            (d.patient_id, d.date): d
            for d in DiaryDay.objects.filter(patient_id__in=pids, date__gte=lo, date__lte=hi)
        }
        old_meds: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
        if existing:
            for m in DiaryMedication.objects.filter(
                day_id__in=[d.pk for d in existing.values()]
            ).order_by("id"):
                old_meds[m.day_id].append((m.name, m.drug_class, m.doses))
        new_days, new_meds, changed, revisions = [], [], [], []
        for pid, day, values, meds in chunk:
            cur = existing.get((pid, day))
            fields = dict(zip(DAY_COLUMNS, values, strict=True))
            if cur is None:
                obj = DiaryDay(
                    patient_id=pid, date=day, source=DiarySource.IMPORT, entered_by=user, **fields
                )
                new_days.append((obj, meds))
                per_patient[pid][0] += 1
                continue
            before = {k: _plain(getattr(cur, k)) for k in DAY_COLUMNS}
            before["medications"] = [list(m) for m in old_meds.get(cur.pk, [])]
            after = {k: _plain(v) for k, v in fields.items()}
            after["medications"] = [list(m) for m in meds]
            if before == after:
                continue
            revisions.append(
                DiaryDayRevision(
                    day=cur,
                    version=cur.version,
                    data=before,
                    source=cur.source,
                    entered_by_id=cur.entered_by_id,
                    replaced_by=user,
                )
            )
            for k, v in fields.items():
                setattr(cur, k, v)
            cur.version += 1
            cur.source = DiarySource.IMPORT
            cur.entered_by = user
            changed.append((cur, meds))
            per_patient[pid][1] += 1
        DiaryDay.objects.bulk_create([d for d, _ in new_days])
        if changed:
            DiaryDayRevision.objects.bulk_create(revisions)
            DiaryDay.objects.bulk_update(
                [d for d, _ in changed],
                [*DAY_COLUMNS, "version", "source", "entered_by", "updated_at"],
            )
            DiaryMedication.objects.filter(day_id__in=[d.pk for d, _ in changed]).delete()
        for d, meds in [*new_days, *changed]:
            new_meds.extend(
                DiaryMedication(day_id=d.pk, name=n, drug_class=c, doses=k) for n, c, k in meds
            )
        DiaryMedication.objects.bulk_create(new_meds)
        _progress(job, written_rows=start + len(chunk))
    return per_patient


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v.normalize()) if v == v.to_integral() else str(v)
    return v


class _PgStage:
    """PostgreSQL staging: a session TEMP table filled by ``COPY`` while the file is parsed.

    Staging is scratch space, not a write: the real tables change only in ``_write``'s one
    transaction, and the table is dropped whatever happens. ``new_id`` takes the next
    diary-day id as each row arrives, so medicines of new days need no join to find them
    (ids of rows that turn out to exist already are simply skipped; ids are bigint)."""

    FLUSH_ROWS = CHUNK_ROWS

    def __init__(self) -> None:
        self.rows = 0
        self.lines: list[str] = []
        self.lines_memo: dict[int, tuple[tuple[Any, ...], str]] = {}
        self.created = False
        self.copy_seconds = 0.0

    def _create(self) -> None:
        from psycopg import sql

        with connection.cursor() as cur:
            cur.execute("SELECT pg_get_serial_sequence('diaries_diaryday', 'id')")
            (seq,) = cur.fetchone()
            cur.execute("DROP TABLE IF EXISTS pg_temp.diary_stage")
            ddl = sql.SQL(
                """
                CREATE TEMP TABLE diary_stage (
                  patient_id bigint, date date, headache boolean, hours numeric(3,1),
                  severity smallint, unilateral boolean, pulsating boolean,
                  worse_with_activity boolean, nausea boolean, vomiting boolean,
                  photophobia boolean, phonophobia boolean, aura boolean,
                  aura_minutes smallint, triptan_or_ergot_relief boolean, note varchar(500),
                  meds text, med_names text[], med_classes text[], med_doses smallint[],
                  new_id bigint DEFAULT nextval({}::regclass), day_id bigint, changed boolean
                )
                """
            ).format(sql.Literal(seq))
            cur.execute(ddl.as_string(cur.cursor.connection))
        self.created = True

    def add(self, pid: int, day: date, values: tuple[Any, ...], meds: list[Any]) -> None:
        memo = self.lines_memo.get(id(values))
        if memo is None:
            memo = (values, _copy_suffix(values, meds))  # holds ``values``: its id stays unique
            if len(self.lines_memo) < RowParser.MEMO_MAX:
                self.lines_memo[id(values)] = memo
        self.lines.append(f"{pid}\t{day.isoformat()}\t{memo[1]}")
        self.rows += 1
        if len(self.lines) >= self.FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.created:
            self._create()
        if not self.lines:
            return
        t0 = time.perf_counter()
        with (
            connection.cursor() as cur,
            cur.cursor.copy(
                "COPY diary_stage (patient_id, date, headache, hours, severity, unilateral, "
                "pulsating, worse_with_activity, nausea, vomiting, photophobia, phonophobia, "
                "aura, aura_minutes, triptan_or_ergot_relief, note, meds, med_names, "
                "med_classes, med_doses) FROM STDIN"
            ) as copy,
        ):
            copy.write("".join(self.lines))
        self.lines.clear()
        self.copy_seconds += time.perf_counter() - t0
        LAST_TIMINGS["copy"] = self.copy_seconds

    def drop(self) -> None:
        if not self.created:
            return
        self.created = False
        try:
            with connection.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS pg_temp.diary_stage")
        except Exception:  # noqa: BLE001, S110 - an aborted connection drops its temp tables
            pass


def _write_postgres(job: DiaryImport, stage: _PgStage) -> dict[int, list[int]]:
    """Set-based upsert from the staging table (revisions kept for changed days)."""
    user_id = job.created_by_id
    now = timezone.now()
    if not stage.created:
        stage.flush()
    with connection.cursor() as cur:
        t_sql = time.perf_counter()
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("ANALYZE diary_stage")
        # Only files that touch days the diary already has need the comparison (a probe per
        # patient over the file's date range decides; most big imports are all new days).
        cur.execute(
            """
            SELECT EXISTS (
              SELECT 1 FROM (SELECT DISTINCT patient_id FROM diary_stage) p
              JOIN diaries_diaryday d ON d.patient_id = p.patient_id
               AND d.date BETWEEN (SELECT min(date) FROM diary_stage)
                              AND (SELECT max(date) FROM diary_stage))
            """
        )
        overlap = cur.fetchone()[0]
        if overlap:
            cur.execute("CREATE INDEX ON diary_stage (patient_id, date)")
            cur.execute(
                """
                UPDATE diary_stage s SET day_id = d.id, changed = (
                    (d.headache, d.hours, d.severity, d.unilateral, d.pulsating,
                     d.worse_with_activity, d.nausea, d.vomiting, d.photophobia, d.phonophobia,
                     d.aura, d.aura_minutes, d.triptan_or_ergot_relief, d.note)
                    IS DISTINCT FROM
                    (s.headache, s.hours, s.severity, s.unilateral, s.pulsating,
                     s.worse_with_activity, s.nausea, s.vomiting, s.photophobia, s.phonophobia,
                     s.aura, s.aura_minutes, s.triptan_or_ergot_relief, s.note)
                    OR s.meds IS DISTINCT FROM COALESCE((
                        SELECT string_agg(m.name || '|' || m.drug_class || '|' || m.doses, ';'
                                          ORDER BY m.id)
                        FROM diaries_diarymedication m WHERE m.day_id = d.id), ''))
                FROM diaries_diaryday d
                WHERE d.patient_id = s.patient_id AND d.date = s.date
                """
            )
        LAST_TIMINGS["compare"] = time.perf_counter() - t_sql
        t_sql = time.perf_counter()
        if overlap:
            cur.execute(
                """
                INSERT INTO diaries_diarydayrevision
                    (day_id, version, data, source, entered_by_id, replaced_at, replaced_by_id)
                SELECT d.id, d.version,
                       jsonb_build_object(
                         'headache', d.headache, 'hours', d.hours::text, 'severity', d.severity,
                         'unilateral', d.unilateral, 'pulsating', d.pulsating,
                         'worse_with_activity', d.worse_with_activity, 'nausea', d.nausea,
                         'vomiting', d.vomiting, 'photophobia', d.photophobia,
                         'phonophobia', d.phonophobia, 'aura', d.aura,
                         'aura_minutes', d.aura_minutes,
                         'triptan_or_ergot_relief', d.triptan_or_ergot_relief, 'note', d.note,
                         'medications', COALESCE((
                            SELECT jsonb_agg(jsonb_build_array(m.name, m.drug_class, m.doses)
                                             ORDER BY m.id)
                            FROM diaries_diarymedication m WHERE m.day_id = d.id), '[]'::jsonb)),
                       d.source, d.entered_by_id, %s, %s
                FROM diary_stage s JOIN diaries_diaryday d ON d.id = s.day_id
                WHERE s.changed
                """,
                [now, user_id],
            )
            cur.execute(
                "DELETE FROM diaries_diarymedication m USING diary_stage s "
                "WHERE s.changed AND m.day_id = s.day_id"
            )
            cur.execute(
                """
                UPDATE diaries_diaryday d SET
                  headache = s.headache, hours = s.hours, severity = s.severity,
                  unilateral = s.unilateral, pulsating = s.pulsating,
                  worse_with_activity = s.worse_with_activity, nausea = s.nausea,
                  vomiting = s.vomiting, photophobia = s.photophobia,
                  phonophobia = s.phonophobia, aura = s.aura, aura_minutes = s.aura_minutes,
                  triptan_or_ergot_relief = s.triptan_or_ergot_relief, note = s.note,
                  source = 'import', entered_by_id = %s, version = d.version + 1,
                  updated_at = %s
                FROM diary_stage s WHERE s.changed AND d.id = s.day_id
                """,
                [user_id, now],
            )
        LAST_TIMINGS["revise"] = time.perf_counter() - t_sql
        t_sql = time.perf_counter()
        # In (patient, date) order: the unique index and the foreign-key checks then walk
        # their pages in order instead of jumping around once per row.
        cur.execute(
            """
            INSERT INTO diaries_diaryday
              (id, patient_id, date, headache, hours, severity, unilateral, pulsating,
               worse_with_activity, nausea, vomiting, photophobia, phonophobia, aura,
               aura_minutes, triptan_or_ergot_relief, note, source, entered_by_id, version,
               created_at, updated_at)
            SELECT new_id, patient_id, date, headache, hours, severity, unilateral, pulsating,
               worse_with_activity, nausea, vomiting, photophobia, phonophobia, aura,
               aura_minutes, triptan_or_ergot_relief, note, 'import', %s, 1, %s, %s
            FROM diary_stage WHERE day_id IS NULL
            ORDER BY patient_id, date
            """,
            [user_id, now, now],
        )
        LAST_TIMINGS["insert_days"] = time.perf_counter() - t_sql
        t_sql = time.perf_counter()
        cur.execute(
            """
            INSERT INTO diaries_diarymedication (day_id, name, drug_class, doses)
            SELECT COALESCE(s.day_id, s.new_id), u.name, u.drug_class, u.doses
            FROM diary_stage s
            CROSS JOIN LATERAL unnest(s.med_names, s.med_classes, s.med_doses)
                 WITH ORDINALITY AS u(name, drug_class, doses, pos)
            WHERE s.meds <> '' AND (s.day_id IS NULL OR s.changed)
            ORDER BY 1, u.pos
            """
        )
        LAST_TIMINGS["insert_meds"] = time.perf_counter() - t_sql
        cur.execute(
            "SELECT patient_id, count(*) FILTER (WHERE day_id IS NULL), "
            "count(*) FILTER (WHERE changed) FROM diary_stage GROUP BY patient_id"
        )
        per_patient = {pid: [int(a), int(b)] for pid, a, b in cur.fetchall()}
        t_sql = time.perf_counter()
        _audit_patients_sql(cur, job)
        LAST_TIMINGS["audit_patients"] = time.perf_counter() - t_sql
    return per_patient


def _esc(text: str) -> str:
    """COPY text-format escaping (only when needed)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


_TF = {True: "t", False: "f"}


def _copy_suffix(values: tuple[Any, ...], meds: list[tuple[str, str, int]]) -> str:
    """The COPY text of a day's values after patient and date (same for identical days)."""
    headache, hours, severity, *rest = values
    feats = rest[: len(FEATURES)]
    aura_minutes, relief, note = rest[len(FEATURES) :]
    return (
        "\t".join(
            (
                _TF[headache],
                "\\N" if hours is None else str(hours),
                str(severity),
                *(_TF[f] for f in feats),
                "\\N" if aura_minutes is None else str(aura_minutes),
                _TF[relief],
                _esc(note),
                _esc(_med_signature(meds)),
                _esc(_pg_array(n for n, _c, _k in meds)),
                _pg_array(c for _n, c, _k in meds),
                "{" + ",".join(str(k) for _n, _c, k in meds) + "}",
            )
        )
        + "\n"
    )


def _pg_array(items: Iterable[str]) -> str:
    """A PostgreSQL text[] literal, every element quoted."""
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return "{" + ",".join(quoted) + "}"


def _med_signature(meds: list[tuple[str, str, int]]) -> str:
    return ";".join(f"{n}|{c}|{k}" for n, c, k in meds)
