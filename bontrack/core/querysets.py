"""One scoped queryset for every tenant table: `Model.objects.in_scope(scope)`.

A subclass names where the row's practice and clinic are (`practice_path`, `clinic_path`, as
Django lookups without `_id`). `in_scope(None)` is empty; a scope reaches its practice, and only
its clinics unless its role spans the practice. Rows outside it are simply absent (views 404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models

if TYPE_CHECKING:
    from bontrack.accounts.models import Scope


class ScopedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    practice_path = "clinic__practice"
    clinic_path = "clinic"

    def in_scope(self, scope: Scope | None) -> Self:
        if scope is None:
            return self.none()
        qs = self.filter(**{f"{self.practice_path}_id": scope.practice_id})
        if not scope.all_clinics:
            qs = qs.filter(**{f"{self.clinic_path}_id__in": scope.clinic_ids})
        return qs


class ClinicScopedQuerySet(ScopedQuerySet):
    """Rows that belong to a clinic (its `clinic` field)."""

    practice_path = "clinic__practice"
    clinic_path = "clinic"


class PatientScopedQuerySet(ScopedQuerySet):
    """Rows of a patient: tenancy follows the patient's practice and clinic."""

    practice_path = "patient__practice"
    clinic_path = "patient__clinic"
