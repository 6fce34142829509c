"""Audit rows of dashboard reads: the click-through shows names and dates of birth, so each listed
patient gets a ``view`` row (their access log shows who looked at them from which figure); the CSV
export of a figure (counts only, no patient) writes one ``export`` row."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from bontrack.accounts.models import User
from bontrack.audit import audit
from bontrack.audit.models import AuditEvent
from bontrack.core import context
from bontrack.patients.models import Patient


def record_click_through(*, actor: User, patients: Sequence[Patient], what: str) -> None:
    ctx = context.current()
    with transaction.atomic():
        audit.append_many(
            [
                AuditEvent(
                    actor=actor,
                    actor_label=actor.get_username()[:150],
                    role=actor.role_in(p.clinic_id)[:120],
                    practice_id=p.practice_id,
                    clinic_id=p.clinic_id,
                    patient_id=p.pk,
                    action="view",
                    object_type="patients.patient",
                    object_id=str(p.pk),
                    channel=ctx.channel,
                    source_ip=ctx.source_ip,
                    request_id=ctx.request_id,
                    summary=f"Listed from the program dashboard: {what}"[:500],
                )
                for p in patients
            ]
        )


def record_export(*, actor: User, practice_id: int, figure: str, rows: int) -> None:
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="export",
            object_type="ops.dashboard",
            object_id=figure,
            practice_id=practice_id,
            summary=f"Program dashboard CSV: {figure} ({rows} rows)",
        )
