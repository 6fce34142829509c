"""Audit rows of an import, appended to the practice's chain through the audit app: one per
patient touched (audit.append_many) and one for the job (audit.record).
"""

from __future__ import annotations

from typing import Any

from bontrack.audit import audit
from bontrack.audit.models import AuditEvent
from bontrack.core import context
from bontrack.diaries.models import (
    DiaryImport,
)
from bontrack.patients.models import Patient


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
