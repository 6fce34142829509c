"""Reads for the outcome-scale screens: the cycles of an indication, the review document.

A fixed number of queries whatever the number of cycles or entries (tests count them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from bontrack.patients.models import Condition, Patient
from bontrack.treatments.choices import InjectionStatus
from bontrack.treatments.facts import scales as facts
from bontrack.treatments.models import (
    AdverseEffect,
    Injection,
    ScaleEntry,
    TreatmentPlan,
    TreatmentSession,
    WearingOff,
)


def given_sessions(patient: Patient, indication: str) -> list[TreatmentSession]:
    """Given sessions (signed or awaiting co-signature) that treated ``indication``, oldest first."""
    return list(
        TreatmentSession.objects.current()
        .filter(patient=patient)
        .filter(Q(indication=indication) | Q(injections__indication=indication))
        .distinct()
        .order_by("performed_at", "id")
    )


def session_day(session: TreatmentSession) -> date:
    return timezone.localtime(session.performed_at).date()


@dataclass
class CycleData:
    sessions: list[TreatmentSession]
    wearing_off: dict[int, date]
    effects: dict[int, list[AdverseEffect]]
    entries: list[ScaleEntry]
    last_injections: list[dict[str, Any]] = field(default_factory=list)


def cycle_data(patient: Patient, indication: str) -> CycleData:
    sessions = given_sessions(patient, indication)
    ids = [s.pk for s in sessions]
    wearing = {w.session_id: w.worn_off_on for w in WearingOff.objects.filter(session_id__in=ids)}
    effects: dict[int, list[AdverseEffect]] = defaultdict(list)
    for e in AdverseEffect.objects.filter(session_id__in=ids).order_by("reported_at", "id"):
        effects[e.session_id].append(e)
    entries = list(
        ScaleEntry.objects.filter(patient=patient, indication=indication).order_by("taken_on", "id")
    )
    last: list[dict[str, Any]] = []
    if sessions:
        totals: dict[tuple[str, str], list[Any]] = {}
        for inj in Injection.objects.filter(
            session=sessions[-1], indication=indication, status=InjectionStatus.DONE
        ).order_by("position", "id"):
            row = totals.setdefault((inj.muscle, inj.side), [0, Decimal(0)])
            row[0] += inj.sites
            row[1] += inj.units
        last = [
            {"muscle": m, "side": s, "sites": v[0], "units": v[1]} for (m, s), v in totals.items()
        ]
    return CycleData(sessions, wearing, effects, entries, last)


def review_result(
    patient: Patient, indication: str, as_of: date
) -> tuple[dict[str, Any], CycleData]:
    data = cycle_data(patient, indication)
    result = facts.cycle_review(
        indication,
        as_of,
        [
            {
                "date": session_day(s),
                "wearing_off": data.wearing_off.get(s.pk),
                "adverse_effects": [e.kind for e in data.effects.get(s.pk, [])],
            }
            for s in data.sessions
        ],
        [(e.taken_on, e.instrument, e.answers) for e in data.entries],
        data.last_injections,
    )
    return result, data


def schedule_result(patient: Patient, indication: str, as_of: date) -> dict[str, Any]:
    sessions = given_sessions(patient, indication)
    entries = ScaleEntry.objects.filter(patient=patient, indication=indication).values_list(
        "instrument", "taken_on"
    )
    return facts.schedule(indication, as_of, [session_day(s) for s in sessions], list(entries))


def scale_indications_of(patient: Patient) -> list[str]:
    """The patient's scale indications: conditions, plans, sessions or scale entries (4 queries)."""
    known = set(facts.scale_indications())
    found: set[str] = set(
        Condition.objects.filter(patient=patient, indication__in=known, active=True).values_list(
            "indication", flat=True
        )
    )
    found.update(
        TreatmentPlan.objects.filter(patient=patient, indication__in=known).values_list(
            "indication", flat=True
        )
    )
    found.update(
        Injection.objects.filter(session__patient=patient, indication__in=known).values_list(
            "indication", flat=True
        )
    )
    found.update(ScaleEntry.objects.filter(patient=patient).values_list("indication", flat=True))
    return [i for i in facts.scale_indications() if i in found]
