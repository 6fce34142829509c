"""Lot trace (recall): for one lot, every patient, session, muscle and dose it went into, with each
patient's adverse effects since their first exposure.

Fixed queries whatever the lot's size: the lot's vial uses (1), the sessions they went into with
their patients (1), those sessions' injections (1), every vial of those sessions, to show the
sessions that drew from two vials or two lots (1), the patients' adverse effects (1) and the
recall contact log (1). A session's vials are those of its amendment chain: a vial stays on the
session where it was opened, its signed amendment carries the injections.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Min, Model, Q, QuerySet, Sum

from bontrack.accounts.models import Scope
from bontrack.inventory.models import Lot, RecallContact
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus, SessionStatus
from bontrack.treatments.models import AdverseEffect, Injection, TreatmentSession, VialUse

_M = TypeVar("_M", bound=Model)


@dataclass
class TracedSession:
    id: int
    performed_at: datetime
    status: str
    status_label: str
    clinic: str
    units_from_lot: Decimal = Decimal(0)
    vials: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)

    @property
    def other_lots(self) -> list[str]:
        return sorted({v["lot_number"] for v in self.vials if not v["this_lot"]})


@dataclass
class TracedPatient:
    id: int
    name: str
    mrn: str
    phone: str
    email: str
    preferred_contact: str
    first_exposure: datetime
    sessions: list[TracedSession] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[RecallContact] = field(default_factory=list)


@dataclass
class LotTrace:
    lot: Lot
    patients: list[TracedPatient]

    @property
    def session_count(self) -> int:
        return sum(len(p.sessions) for p in self.patients)


def _any(qs: QuerySet[_M], columns: tuple[str, ...], ids: list[int]) -> QuerySet[_M]:
    """Rows whose column (any of ``columns``) is one of ``ids``. On PostgreSQL one array
    parameter (``= ANY(%s)``), so thousands of ids cost one bound value instead of thousands of
    placeholders (the trace of a lot used by 3,000 sessions spent most of its time binding them);
    elsewhere the usual ``IN``."""
    if connection.vendor == "postgresql":
        table = qs.model._meta.db_table
        where = " OR ".join(f'"{table}"."{c}" = ANY(%s)' for c in columns)
        return qs.extra(where=[f"({where})"], params=[ids] * len(columns))  # noqa: S610
    cond = Q()
    for c in columns:
        cond |= Q(**{f"{c}__in": ids})
    return qs.filter(cond)


def trace(lot: Lot, scope: Scope) -> LotTrace:
    """The exposure of ``lot`` in the clinics of ``scope``."""
    opened_on = list(
        VialUse.objects.filter(vial__lot_id=lot.pk)
        .order_by()
        .values_list("session_id", flat=True)
        .distinct()
    )
    if not opened_on:
        return LotTrace(lot=lot, patients=[])
    current = Q(status__in=GIVEN_STATUSES) | Q(status=SessionStatus.DRAFT, amends__isnull=True)
    # The sessions the vials were opened on and their amendments, current ones only (a signed
    # amendment supersedes the session it amends), with their patients.
    found = _any(
        TreatmentSession.objects.filter(current, patient__practice_id=scope.practice_id),
        ("id", "amends_id"),
        opened_on,
    )
    if not scope.all_clinics:
        found = found.filter(clinic_id__in=scope.clinic_ids)
    status_labels = dict(SessionStatus.choices)
    patients: dict[int, TracedPatient] = {}
    sessions: dict[int, TracedSession] = {}
    chain: dict[int, tuple[int, ...]] = {}
    for (
        sid,
        amends_id,
        performed_at,
        status,
        clinic_name,
        pid,
        first_name,
        last_name,
        mrn,
        phone,
        email,
        preferred_contact,
    ) in found.values_list(
        "pk",
        "amends_id",
        "performed_at",
        "status",
        "clinic__name",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
        "patient__mrn",
        "patient__phone",
        "patient__email",
        "patient__preferred_contact",
    ).order_by("patient__last_name", "patient_id", "performed_at", "pk"):
        p = patients.get(pid)
        if p is None:
            p = patients[pid] = TracedPatient(
                id=pid,
                name=f"{last_name}, {first_name}",
                mrn=mrn,
                phone=phone,
                email=email,
                preferred_contact=preferred_contact,
                first_exposure=performed_at,
            )
        s = sessions[sid] = TracedSession(
            id=sid,
            performed_at=performed_at,
            status=status,
            status_label=status_labels.get(status, ""),
            clinic=clinic_name,
        )
        p.sessions.append(s)
        p.first_exposure = min(p.first_exposure, performed_at)
        chain[sid] = (sid,) if amends_id is None else (sid, amends_id)
    labels = facts.muscle_labels()
    # One row per session, muscle and side (charting stores one row per injection site), summed
    # by the database: half the rows to transfer on a busy lot.
    for sid, muscle, side, sites, units, _first in (
        _any(Injection.objects.all(), ("session_id",), list(sessions))
        .exclude(status=InjectionStatus.SKIPPED)
        .values("session_id", "muscle", "side")
        .annotate(n_sites=Sum("sites"), n_units=Sum("units"), first=Min("position"))
        .values_list("session_id", "muscle", "side", "n_sites", "n_units", "first")
        .order_by("session_id", "first", "muscle", "side")
    ):
        sessions[sid].sites.append(
            {
                "code": muscle,
                "muscle": labels.get(muscle, muscle),
                "side": side,
                "sites": sites,
                "units": units,
            }
        )
    by_session: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in _any(
        VialUse.objects.all(), ("session_id",), list({x for ids in chain.values() for x in ids})
    ).values(
        "session_id",
        "vial_id",
        "vial__lot_id",
        "vial__lot__lot_number",
        "vial__lot__size_units",
        "units_used",
        "units_wasted",
    ):
        by_session[v["session_id"]].append(
            {
                "vial_id": v["vial_id"],
                "lot_number": v["vial__lot__lot_number"],
                "size_units": v["vial__lot__size_units"],
                "units_used": v["units_used"],
                "units_wasted": v["units_wasted"],
                "this_lot": v["vial__lot_id"] == lot.pk,
            }
        )
    for sid, s in sessions.items():
        s.vials = [v for key in chain[sid] for v in by_session.get(key, [])]
        s.units_from_lot = sum((v["units_used"] for v in s.vials if v["this_lot"]), Decimal(0))
    if patients:
        kinds = dict(AdverseEffect._meta.get_field("kind").choices or [])
        for e in (
            _any(AdverseEffect.objects.all(), ("patient_id",), list(patients))
            .values("patient_id", "kind", "detail", "status", "reported_at", "urgent")
            .order_by("reported_at", "id")
        ):
            p = patients[e["patient_id"]]
            if e["reported_at"] >= p.first_exposure:
                p.effects.append({**e, "kind_label": kinds.get(e["kind"], e["kind"])})
        for c in (
            RecallContact.objects.filter(lot=lot)
            .select_related("contacted_by")
            .order_by("-created_at", "-id")
        ):
            if c.patient_id in patients:
                patients[c.patient_id].contacts.append(c)
    return LotTrace(lot=lot, patients=list(patients.values()))


def exposed_patients(lot: Lot, scope: Scope) -> QuerySet[Patient]:
    """The patients in scope whose sessions drew a vial of ``lot`` (for the contact log)."""
    return (
        Patient.objects.in_scope(scope)
        .filter(treatment_sessions__in=VialUse.objects.filter(vial__lot=lot).values("session_id"))
        .distinct()
    )
