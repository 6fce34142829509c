"""What the diary screens ask of the apps above them, without importing them.

diaries sits below treatments in the layers (CONVENTIONS.md), so it never imports treatments:
treatments registers a provider here in its ``AppConfig.ready()`` and the diary chart asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Continuation:
    """Where a treated patient is in an indication's program (after the first signed session).

    ``response`` is one plain sentence on the response so far (None when nothing can be said yet),
    ``response_ok`` whether it reads as a benefit (True), a warning (False) or neither (None).
    """

    indication: str
    cycle: int
    first_session: date
    last_session: date
    next_due: date
    next_review: date | None
    response: str | None = None
    response_ok: bool | None = None
    last_review: str | None = None
    notes: list[str] = field(default_factory=list)


ContinuationProvider = Callable[[Patient, str, date], Continuation | None]

_continuation: list[ContinuationProvider] = []


def provide_continuation(provider: ContinuationProvider) -> None:
    """Register a provider of the continuation state (treatments, in its ``ready()``)."""
    if provider not in _continuation:
        _continuation.append(provider)


def continuation(patient: Patient, indication: str, today: date) -> Continuation | None:
    """The patient's continuation state for `indication`, or None before the first signed session
    of that indication (then the chart shows the initiation criteria)."""
    for provider in _continuation:
        found = provider(patient, indication, today)
        if found is not None:
            return found
    return None
