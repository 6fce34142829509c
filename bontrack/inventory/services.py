"""Stock changes: receiving lots, opening a vial for one patient's session, settling and discarding.

``receive_lot`` and ``discard_vial`` are use cases (durable transactions). Opening a vial for a
session and settling it at signing are treatments actions (``treatments/actions/vials.py``): the
link between a session and its vials belongs to treatments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.inventory import facts
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
    if locked.status == VialStatus.RECONSTITUTED:
        # Opened for a session not signed yet (signing settles every vial as used).
        raise Conflict("This vial belongs to a draft session; sign or edit the session instead.")
    before = locked.status
    wasted = facts.wasted_on_discard(locked.lot.size_units, Decimal(0))
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
