"""Lot trace (recall): for one lot, every patient, session, muscle and dose it went into, with each
patient's adverse effects since their first exposure.

Fixed queries whatever the lot's size: the lot's vial uses (1), the injections of the sessions
they went into, with session and patient joined (1), every vial of those sessions, to show the
sessions that drew from two vials or two lots (1), the patients' adverse effects (1) and the
recall contact log (1). A session's vials are those of its amendment chain: a vial stays on the
session where it was opened, its signed amendment carries the injections.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from bontrack.accounts.models import Scope
from bontrack.inventory.models import Lot, RecallContact
from bontrack.treatments import facts
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus, SessionStatus
from bontrack.treatments.models import AdverseEffect, Injection, VialUse


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


def trace(lot: Lot, scope: Scope) -> LotTrace:
    """The exposure of ``lot`` in the clinics of ``scope``."""
    opened_on = list(
        VialUse.objects.filter(vial__lot_id=lot.pk).values_list("session_id", flat=True).distinct()
    )
    if not opened_on:
        return LotTrace(lot=lot, patients=[])
    current = Q(session__status__in=GIVEN_STATUSES) | Q(
        session__status=SessionStatus.DRAFT, session__amends__isnull=True
    )
    rows = Injection.objects.filter(
        Q(session_id__in=opened_on) | Q(session__amends_id__in=opened_on),
        current,
        session__patient__practice_id=scope.practice_id,
    ).exclude(status=InjectionStatus.SKIPPED)
    if not scope.all_clinics:
        rows = rows.filter(session__clinic_id__in=scope.clinic_ids)
    rows = rows.values(
        "session_id",
        "session__amends_id",
        "session__performed_at",
        "session__status",
        "session__clinic__name",
        "session__patient_id",
        "session__patient__first_name",
        "session__patient__last_name",
        "session__patient__mrn",
        "session__patient__phone",
        "session__patient__email",
        "session__patient__preferred_contact",
        "muscle",
        "side",
        "sites",
        "units",
        "status",
        "indication",
    ).order_by("session__patient__last_name", "session__patient_id", "session__performed_at", "id")
    labels = facts.muscle_labels()
    status_labels = dict(SessionStatus.choices)
    patients: dict[int, TracedPatient] = {}
    sessions: dict[int, TracedSession] = {}
    chain: dict[int, tuple[int, ...]] = {}
    for r in rows:
        pid = r["session__patient_id"]
        p = patients.get(pid)
        if p is None:
            p = patients[pid] = TracedPatient(
                id=pid,
                name=f"{r['session__patient__last_name']}, {r['session__patient__first_name']}",
                mrn=r["session__patient__mrn"],
                phone=r["session__patient__phone"],
                email=r["session__patient__email"],
                preferred_contact=r["session__patient__preferred_contact"],
                first_exposure=r["session__performed_at"],
            )
        sid = r["session_id"]
        s = sessions.get(sid)
        if s is None:
            s = sessions[sid] = TracedSession(
                id=sid,
                performed_at=r["session__performed_at"],
                status=r["session__status"],
                status_label=status_labels.get(r["session__status"], ""),
                clinic=r["session__clinic__name"],
            )
            p.sessions.append(s)
            p.first_exposure = min(p.first_exposure, s.performed_at)
            chain[sid] = tuple(x for x in (sid, r["session__amends_id"]) if x is not None)
        s.sites.append(
            {
                "muscle": labels.get(r["muscle"], r["muscle"]),
                "side": r["side"],
                "sites": r["sites"],
                "units": r["units"],
                "done": r["status"] == InjectionStatus.DONE,
            }
        )
    by_session: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in VialUse.objects.filter(
        session_id__in={x for ids in chain.values() for x in ids}
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
            AdverseEffect.objects.filter(patient_id__in=list(patients))
            .values("patient_id", "kind", "detail", "status", "reported_at", "urgent")
            .order_by("reported_at", "id")
        ):
            p = patients[e["patient_id"]]
            if e["reported_at"] >= p.first_exposure:
                p.effects.append({**e, "kind_label": kinds.get(e["kind"], e["kind"])})
        for c in (
            RecallContact.objects.filter(lot=lot, patient_id__in=list(patients))
            .select_related("contacted_by")
            .order_by("-created_at", "-id")
        ):
            patients[c.patient_id].contacts.append(c)
    return LotTrace(lot=lot, patients=list(patients.values()))
