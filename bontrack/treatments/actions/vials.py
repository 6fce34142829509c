"""The vials a session draws from: the amendment chain's vials, opening a vial on a session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.inventory import services as inventory
from bontrack.inventory.models import Vial
from bontrack.treatments.actions.common import audit_record, lock_draft
from bontrack.treatments.actions.dose_guard import guard_dose_check
from bontrack.treatments.models import (
    TreatmentSession,
)


def chain_ids(sessions: Iterable[TreatmentSession]) -> dict[int, list[int]]:
    """Each session with the sessions it amends, back to the original (one query at most).

    A session's vials are the vials opened on any session of its chain: the original's plus
    the ones each amendment opened (``Vial.session`` stays where the vial was opened).
    """
    sessions = list(sessions)
    links: dict[int, int] = {}
    if any(s.amends_id for s in sessions):
        links = dict(
            TreatmentSession.objects.filter(
                patient_id__in={s.patient_id for s in sessions}, amends__isnull=False
            ).values_list("pk", "amends_id")
        )
    out: dict[int, list[int]] = {}
    for s in sessions:
        ids, cur = [s.pk], s.amends_id
        while cur is not None and cur not in ids:
            ids.append(cur)
            cur = links.get(cur)
        out[s.pk] = ids
    return out


def session_vials(session: TreatmentSession) -> list[Vial]:
    ids = chain_ids([session])[session.pk]
    return list(Vial.objects.filter(session_id__in=ids).select_related("lot").order_by("id"))


@transaction.atomic(durable=True)
def open_vial(
    *,
    actor: User,
    session: TreatmentSession,
    vial: Vial,
    diluent_ml: Decimal,
    reconstituted_at: datetime,
    override_reason: str = "",
) -> Vial:
    """Pick a stocked vial for this session and record its dilution and reconstitution time.

    On a draft amendment the vial is opened for the amendment (``vial.session``); the amended
    session's vials stay as recorded until the amendment is signed, which settles them all again.
    """
    locked = lock_draft(session, actor, Perm.SESSION_CHART)
    locked_vial = Vial.objects.select_for_update().select_related("lot").get(pk=vial.pk)
    if reconstituted_at > locked.performed_at:
        raise ValidationError(
            {"reconstituted_at": ["Reconstitution must be before the injections."]}
        )
    vials = session_vials(locked)
    inventory.open_vial(
        vial=locked_vial,
        session=locked,
        actor=actor,
        diluent_ml=diluent_ml,
        reconstituted_at=reconstituted_at,
    )
    guard_dose_check(
        actor=actor,
        session=locked,
        injections=list(locked.injections.all()),
        vials=[*vials, locked_vial],
        override_reason=override_reason,
    )
    audit_record(
        actor,
        "update",
        locked_vial,
        locked.patient,
        f"Opened vial {locked_vial.pk} (lot {locked_vial.lot.lot_number}) for session {locked.pk}",
        {
            "status": ["in_stock", locked_vial.status],
            "diluent_ml": [None, diluent_ml],
            "reconstituted_at": [None, reconstituted_at],
            "session": [None, locked.pk],
        },
    )
    return locked_vial


def units_text(units: Decimal) -> str:
    return str(Decimal(units).quantize(Decimal("0.01")))


def record_resettled(
    actor: User,
    amendment: TreatmentSession,
    settled: list[tuple[Vial, Decimal, Decimal]],
    before: dict[int, tuple[str, str, str]],
) -> None:
    """Audit each vial whose use or waste the signed amendment changed (before -> after)."""
    for vial, used, waste in settled:
        status, used_before, waste_before = before[vial.pk]
        changes = audit.diff(
            {"status": status, "units_used": used_before, "units_wasted": waste_before},
            {
                "status": vial.status,
                "units_used": units_text(used),
                "units_wasted": units_text(waste),
            },
        )
        if changes:
            audit_record(
                actor,
                "update",
                vial,
                amendment.patient,
                f"Vial {vial.pk} settled again by amendment {amendment.pk}: {used} U used,"
                f" {waste} U wasted",
                changes,
            )
