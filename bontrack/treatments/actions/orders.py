"""Orders: a physician's signed plan is the order a nurse injector charts within.

``order_deviations`` compares a session with the order of each of its indications (indication,
muscles, sides, sites, units) and says what differs in plain sentences. ``cosign_reasons`` adds
the warnings a non-physician acknowledged; a nurse's signature with any reason sends the session
to a physician for co-signature (``signing.sign_session``). ``sign_plan`` is the physician's
signature that makes a plan saved by someone else an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.choices import DecisionKind, InjectionStatus, Side
from bontrack.treatments.models import (
    FindingDecision,
    Injection,
    TreatmentPlan,
    TreatmentSession,
)

Key = tuple[str, str]  # (muscle, side)


@dataclass(frozen=True)
class Reason:
    """Why a session needs a physician's co-signature: a kind and a plain sentence."""

    kind: str  # "indication" | "muscle" | "side" | "units" | "sites" | "warning"
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def site_label(muscle: str, side: str) -> str:
    """ "Left corrugator", "Procerus", "Bilateral trapezius" (plain words for the worklist)."""
    label = facts.muscle_labels().get(muscle, muscle)
    if side in (Side.LEFT, Side.RIGHT, Side.BILATERAL):
        return f"{Side(side).label} {label[:1].lower()}{label[1:]}"
    return label


def _units(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"{text} U"


def _sites(n: int) -> str:
    return f"{n} site{'s' if n != 1 else ''}"


def order_for(session: TreatmentSession, indication: str) -> TreatmentPlan | None:
    """The physician's order for one indication of the session: the plan the session was charted
    from when it is that indication's, else the indication's active plan; None unless signed."""
    plan = (
        session.plan if session.plan is not None and session.plan.indication == indication else None
    )
    if plan is None:
        plan = (
            TreatmentPlan.objects.filter(
                patient_id=session.patient_id, indication=indication, active=True
            )
            .select_related("ordered_by")
            .prefetch_related("lines")
            .first()
        )
    return plan if plan is not None and plan.is_ordered else None


def _charted(injections: list[Injection], indication: str) -> dict[Key, tuple[Decimal, int]]:
    out: dict[Key, tuple[Decimal, int]] = {}
    for i in injections:
        if i.indication != indication or i.status != InjectionStatus.DONE:
            continue
        units, sites = out.get((i.muscle, i.side), (Decimal(0), 0))
        out[(i.muscle, i.side)] = (units + i.units, sites + i.sites)
    return out


def compare(
    charted: dict[Key, tuple[Decimal, int]], ordered: dict[Key, tuple[Decimal, int]]
) -> list[Reason]:
    """What the charted sites change from the ordered ones, in the order's then the chart's order."""
    out: list[Reason] = []
    charted_muscles = {m for m, _ in charted}
    ordered_muscles = {m for m, _ in ordered}
    for key, (units, sites) in ordered.items():
        if key not in charted:
            if key[0] in charted_muscles:
                continue  # reported below as another side
            out.append(
                Reason("muscle", f"{site_label(*key)}: {_units(units)} ordered, none charted.")
            )
            continue
        got_units, got_sites = charted[key]
        if got_units != units:
            out.append(
                Reason(
                    "units",
                    f"{site_label(*key)}: {_units(got_units)} charted, {_units(units)} ordered.",
                )
            )
        if got_sites != sites:
            out.append(
                Reason(
                    "sites",
                    f"{site_label(*key)}: {_sites(got_sites)} charted, {sites} ordered.",
                )
            )
    for key, (units, _sites_n) in charted.items():
        if key in ordered:
            continue
        if key[0] in ordered_muscles:
            sides = sorted(
                str(Side(s).label).lower() for m, s in ordered if m == key[0] and (m, s) != key
            )
            out.append(
                Reason(
                    "side",
                    f"{site_label(*key)}: {_units(units)} charted on the {Side(key[1]).label.lower()};"
                    f" the order is for the {' and '.join(sides)} side.",
                )
            )
        else:
            out.append(
                Reason("muscle", f"{site_label(*key)}: {_units(units)} charted, not in the order.")
            )
    return out


def order_deviations(session: TreatmentSession, injections: list[Injection]) -> list[Reason]:
    """How the session departs from its orders, indication by indication."""
    out: list[Reason] = []
    indications = list(session.indications or [session.indication])
    for ind in dict.fromkeys([*indications, *(i.indication for i in injections)]):
        plan = order_for(session, ind)
        if plan is None:
            if any(i.indication == ind and i.status == InjectionStatus.DONE for i in injections):
                out.append(
                    Reason(
                        "indication",
                        f"{facts.indication_label(ind)}: no physician's order for this indication.",
                    )
                )
            continue
        ordered: dict[Key, tuple[Decimal, int]] = {}
        for ln in plan.lines.all():
            units, sites = ordered.get((ln.muscle, ln.side), (Decimal(0), 0))
            ordered[(ln.muscle, ln.side)] = (units + ln.units, sites + ln.sites)
        out += compare(_charted(injections, ind), ordered)
    return out


def acknowledged_by_non_physician(
    session: TreatmentSession, decisions: list[FindingDecision]
) -> list[Reason]:
    """Warnings acknowledged by someone who may not co-sign (a nurse)."""
    clinic_id = session.patient.clinic_id
    return [
        Reason("warning", f"Warning acknowledged by the nurse: {d.message}")
        for d in decisions
        if d.kind == DecisionKind.ACKNOWLEDGE
        and not d.decided_by.has_clinic_perm(Perm.SESSION_COSIGN, clinic_id)
    ]


def cosign_reasons(
    *,
    actor: User,
    session: TreatmentSession,
    injections: list[Injection],
    decisions: list[FindingDecision],
) -> list[Reason]:
    """Why this signature needs a physician's co-signature; empty when the signer is a physician
    of the clinic (a physician who signs their own session needs none)."""
    if actor.has_clinic_perm(Perm.SESSION_COSIGN, session.patient.clinic_id):
        return []
    return order_deviations(session, injections) + acknowledged_by_non_physician(session, decisions)


@transaction.atomic(durable=True)
def sign_plan(*, actor: User, plan: TreatmentPlan) -> TreatmentPlan:
    """A physician signs a plan saved by someone else: it becomes the order."""
    locked = TreatmentPlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
    _require(actor, Perm.SESSION_COSIGN, locked.patient.clinic_id)
    if not locked.active:
        raise Conflict("This plan was replaced by a newer one; sign the active plan.")
    if locked.is_ordered:
        raise Conflict("This plan is already signed.")
    mark_ordered(actor, locked)
    return locked


def mark_ordered(actor: User, plan: TreatmentPlan) -> None:
    """Record the physician's order on a plan (inside the caller's transaction), audited."""
    plan.ordered_by = actor
    plan.ordered_at = timezone.now()
    TreatmentPlan.objects.filter(pk=plan.pk).update(ordered_by=actor, ordered_at=plan.ordered_at)
    audit_record(
        actor,
        "update",
        plan,
        plan.patient,
        f"Signed treatment plan {plan.pk}: it is the order",
        {"ordered_by": [None, actor.pk], "ordered_at": [None, plan.ordered_at]},
    )


def stored_reasons(session: TreatmentSession) -> list[dict[str, Any]]:
    return [r for r in session.cosign_reasons or [] if isinstance(r, dict)]
