"""Treatment dates for the diary charts (registered with ``bontrack.diaries.hooks``)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from bontrack.patients.models import Patient
from bontrack.treatments.models import TreatmentSession


def signed_session_dates(patient: Patient) -> list[date]:
    """Signed treatment sessions' local dates."""
    tz = timezone.get_current_timezone()
    rows = TreatmentSession.objects.filter(patient=patient, signed_at__isnull=False).values_list(
        "performed_at", flat=True
    )
    return sorted({timezone.localtime(p, tz).date() for p in rows if p is not None})
