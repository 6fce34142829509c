"""Writing a validated import in one transaction (generic path: bulk_create / bulk_update) and
its audit rows through the audit app.
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.db import transaction

from bontrack.diaries.choices import DiarySource
from bontrack.diaries.csv.auditing import _audit, _audit_job
from bontrack.diaries.csv.format import DAY_COLUMNS
from bontrack.diaries.csv.progress import LAST_TIMINGS, _progress, _Timer
from bontrack.diaries.csv.validate import Parsed
from bontrack.diaries.csv.write_postgres import _PgStage, _plain, _write_postgres
from bontrack.diaries.models import (
    DiaryDay,
    DiaryDayRevision,
    DiaryImport,
    DiaryMedication,
)
from bontrack.outcomes.services import mark_many as mark_outcomes


def _write(job: DiaryImport, parsed: Parsed, stage: _PgStage | None = None) -> int:
    with transaction.atomic(durable=True):
        if stage is not None:
            per_patient = _write_postgres(job, stage)
        else:
            per_patient = _write_generic(job, parsed)
        mark_outcomes(per_patient)  # dashboard rollup: the worker refreshes these patients
        with _Timer("audit"):
            if stage is not None:
                _audit_job(job, per_patient)
            else:
                _audit(job, per_patient)
        t_commit = time.perf_counter()
    LAST_TIMINGS["commit"] = time.perf_counter() - t_commit
    return stage.rows if stage is not None else len(parsed)


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
