"""What the diary screens ask of the apps above them, without importing them.

diaries sits below treatments in the layers (CONVENTIONS.md), so it never imports treatments:
treatments registers a provider here in its ``AppConfig.ready()`` and the diary chart asks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bontrack.patients.models import Patient

SessionDates = Callable[[Patient], list[date]]

_session_dates: list[SessionDates] = []


def provide_session_dates(provider: SessionDates) -> None:
    """Register a provider of a patient's treatment dates (markers on the diary charts)."""
    if provider not in _session_dates:
        _session_dates.append(provider)


def session_dates(patient: Patient) -> list[date]:
    """The local dates of the patient's treatment sessions, from every registered provider."""
    return sorted({day for provider in _session_dates for day in provider(patient)})
