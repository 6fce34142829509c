"""PostgreSQL write path: COPY into a temporary staging table and one set-based upsert."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from bontrack.diaries.csv.auditing import _audit_patients_sql
from bontrack.diaries.csv.format import RowParser
from bontrack.diaries.csv.progress import LAST_TIMINGS
from bontrack.diaries.csv.validate import CHUNK_ROWS
from bontrack.diaries.models import (
    FEATURES,
    DiaryImport,
)


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
