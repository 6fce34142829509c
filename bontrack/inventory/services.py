"""Stock changes: receiving lots, opening a vial for one patient's session, settling and discarding.

``receive_lot`` and ``discard_vial`` are use cases (durable transactions). ``open_vial`` and
``settle_vials`` are steps of the treatments services and run inside their transaction.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.patients.services import Conflict

MAX_VIALS_PER_RECEIPT = 500


@transaction.atomic(durable=True)
def receive_lot(
    *,
    actor: User,
    clinic: Clinic,
    ndc: str,
    lot_number: str,
    expiry: date,
    size_units: int,
    vials: int,
    product: str = "onabotulinumtoxinA",
) -> Lot:
    """Record a delivery: the lot (created once per practice) and ``vials`` new vials in stock."""
    from bontrack.treatments import facts

    _require(actor, Perm.INVENTORY_MANAGE, clinic.pk)
    errors: dict[str, list[str]] = {}
    if size_units not in facts.vial_sizes():
        sizes = ", ".join(f"{s} U" for s in facts.vial_sizes())
        errors["size_units"] = [f"Vials come in {sizes}."]
    if not 1 <= vials <= MAX_VIALS_PER_RECEIPT:
        errors["vials"] = [f"Receive between 1 and {MAX_VIALS_PER_RECEIPT} vials at a time."]
    if expiry < timezone.localdate():
        errors["expiry"] = ["This lot has expired; do not stock it."]
    if not lot_number.strip():
        errors["lot_number"] = ["This field is required."]
    if errors:
        raise ValidationError(errors)
    lot = Lot.objects.filter(
        practice_id=clinic.practice_id, product=product, lot_number=lot_number.strip()
    ).first()
    if lot is None:
        lot = Lot(
            practice_id=clinic.practice_id,
            product=product,
            ndc=ndc.strip(),
            lot_number=lot_number.strip(),
            expiry=expiry,
            size_units=size_units,
        )
        lot.full_clean()
        try:
            with transaction.atomic():
                lot.save()
        except IntegrityError as exc:
            raise Conflict("This lot was just recorded; try again.", field="lot_number") from exc
    elif (lot.expiry, lot.size_units, lot.ndc) != (expiry, size_units, ndc.strip()):
        raise Conflict(
            "This lot number is already recorded with another expiry, size or NDC.",
            field="lot_number",
        )
    Vial.objects.bulk_create([Vial(lot=lot, clinic=clinic) for _ in range(vials)])
    audit.record(
        actor=actor,
        action="create",
        obj=lot,
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        changes={
            "lot_number": [None, lot.lot_number],
            "expiry": [None, expiry],
            "size_units": [None, size_units],
            "vials": [None, vials],
        },
        summary=f"Received {vials} vial(s) of lot {lot.lot_number}",
    )
    return lot


@transaction.atomic(durable=True)
def discard_vial(*, actor: User, vial: Vial, reason: str) -> Vial:
    locked = Vial.objects.select_for_update().select_related("lot").get(pk=vial.pk)
    _require(actor, Perm.INVENTORY_MANAGE, locked.clinic_id)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the vial is discarded."]})
    if locked.status in (VialStatus.USED, VialStatus.DISCARDED):
        raise Conflict("This vial is already used or discarded.")
    if locked.session_id is not None and locked.session.status == "draft":
        raise Conflict("This vial belongs to a draft session; sign or edit the session instead.")
    before = locked.status
    wasted = Decimal(locked.lot.size_units) - locked.units_used
    locked.status = VialStatus.DISCARDED
    locked.discarded_at = timezone.now()
    locked.discard_reason = reason.strip()
    locked.units_wasted = wasted
    locked.save(
        update_fields=["status", "discarded_at", "discard_reason", "units_wasted", "updated_at"]
    )
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        practice_id=locked.lot.practice_id,
        changes={"status": [before, locked.status], "units_wasted": [None, wasted]},
        summary=f"Discarded vial {locked.pk} of lot {locked.lot.lot_number}: {reason[:100]}",
    )
    return locked


def open_vial(
    *,
    vial: Vial,
    session: Any,
    actor: User,
    diluent_ml: Decimal,
    reconstituted_at: datetime,
) -> Vial:
    """Reconstitute a stocked vial for one session (inside the caller's transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("open_vial runs inside a treatments service transaction")
    errors: dict[str, list[str]] = {}
    if vial.status != VialStatus.IN_STOCK:
        raise Conflict("This vial is not in stock.", field="vial_id")
    if vial.clinic_id != session.clinic_id:
        errors["vial_id"] = ["Choose a vial stocked in this session's clinic."]
    local_day = timezone.localtime(
        session.performed_at, zoneinfo.ZoneInfo(session.clinic.time_zone)
    ).date()
    if vial.lot.expiry < local_day:
        errors["vial_id"] = [f"Lot {vial.lot.lot_number} expired on {vial.lot.expiry:%Y-%m-%d}."]
    if diluent_ml <= 0:
        errors["diluent_ml"] = ["Enter the diluent volume in mL."]
    if reconstituted_at > timezone.now():
        errors["reconstituted_at"] = ["Reconstitution cannot be in the future."]
    if errors:
        raise ValidationError(errors)
    vial.status = VialStatus.RECONSTITUTED
    vial.patient_id = session.patient_id
    vial.session = session
    vial.diluent_ml = diluent_ml
    vial.reconstituted_at = reconstituted_at
    vial.opened_by = actor
    vial.save()
    return vial


def settle_vials(*, vials: list[Vial], units_given: Decimal) -> list[tuple[Vial, Decimal, Decimal]]:
    """At signing: fill the vials in order with the units given; the rest of each is waste."""
    remaining = units_given
    out = []
    for vial in vials:
        size = Decimal(vial.lot.size_units)
        used = min(size, max(Decimal(0), remaining))
        remaining -= used
        vial.units_used = used
        vial.units_wasted = size - used
        vial.status = VialStatus.USED
        vial.save(update_fields=["units_used", "units_wasted", "status", "updated_at"])
        out.append((vial, used, size - used))
    return out
