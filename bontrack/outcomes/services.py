"""Marking a patient whose dashboard figures changed (called inside the writer's transaction)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from bontrack.outcomes.models import RefreshMark


def mark(patient_id: int | None) -> None:
    """Queue the patient for the ``outcomes.refresh`` job (one row per patient, however many
    writes; one statement). Runs in the caller's transaction: a rolled-back write marks nothing."""
    if patient_id is not None:
        mark_many([patient_id])


def mark_many(patient_ids: Iterable[int]) -> None:
    now = timezone.now()
    rows = [RefreshMark(patient_id=pid, marked_at=now) for pid in sorted(set(patient_ids))]
    if rows:
        # A newer mark replaces the time of an older one, so a refresh that started before this
        # write (and deletes only the mark it read) leaves this one for the next turn.
        RefreshMark.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["patient"], update_fields=["marked_at"]
        )
