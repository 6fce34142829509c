"""Stock changes: receiving lots, opening a vial for one patient's session, settling and discarding.

``receive_lot`` and ``discard_vial`` are use cases (durable transactions). Opening a vial for a
session and settling it at signing are treatments actions (``treatments/actions/vials.py``): the
link between a session and its vials belongs to treatments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.inventory import facts
from bontrack.inventory import ndc as ndc_format
from bontrack.inventory.choices import ContactMethod, VialSource, VialStatus, WasteReason
from bontrack.inventory.models import Lot, RecallContact, StockCount, StockSettings, Vial
from bontrack.patients.models import Patient
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
    source: str = VialSource.CLINIC_STOCK,
    patient: Patient | None = None,
    delivered_on: date | None = None,
    cold_chain_ok: bool | None = None,
) -> Lot:
    """Record a delivery: the lot (created once per practice) and ``vials`` new vials in stock.

    Clinic stock (buy and bill) serves any patient of the clinic; a specialty-pharmacy shipment is
    dispensed for one patient, with its delivery date and a passed cold-chain check.
    """
    _require(actor, Perm.INVENTORY_MANAGE, clinic.pk)
    errors: dict[str, list[str]] = {}
    try:
        ndc = ndc_format.normalize(ndc)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if size_units not in facts.vial_sizes():
        sizes = ", ".join(f"{s} U" for s in facts.vial_sizes())
        errors["size_units"] = [f"Vials come in {sizes}."]
    if not 1 <= vials <= MAX_VIALS_PER_RECEIPT:
        errors["vials"] = [f"Receive between 1 and {MAX_VIALS_PER_RECEIPT} vials at a time."]
    if expiry < timezone.localdate():
        errors["expiry"] = ["This lot has expired; do not stock it."]
    if not lot_number.strip():
        errors["lot_number"] = ["This field is required."]
    if source not in VialSource.values:
        errors["source"] = ["Choose clinic stock or a specialty-pharmacy shipment."]
    elif source == VialSource.SPECIALTY_PHARMACY:
        if patient is None:
            errors["patient"] = ["A specialty-pharmacy shipment is for one patient: choose them."]
        elif patient.clinic_id != clinic.pk or patient.practice_id != clinic.practice_id:
            errors["patient"] = ["Choose a patient of this clinic."]
        if delivered_on is None:
            errors["delivered_on"] = ["Enter the day the shipment was delivered."]
        elif delivered_on > timezone.localdate():
            errors["delivered_on"] = ["The delivery day cannot be in the future."]
        if cold_chain_ok is not True:
            errors["cold_chain_ok"] = [
                "Only stock a shipment that arrived cold (2 to 8 °C); return the others to the "
                "pharmacy."
            ]
    else:
        patient, cold_chain_ok = None, cold_chain_ok
    if errors:
        raise ValidationError(errors)
    lot = Lot.objects.filter(
        practice_id=clinic.practice_id, product=product, lot_number=lot_number.strip()
    ).first()
    if lot is None:
        lot = Lot(
            practice_id=clinic.practice_id,
            product=product,
            ndc=ndc,
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
    elif (lot.expiry, lot.size_units, lot.ndc) != (expiry, size_units, ndc):
        raise Conflict(
            "This lot number is already recorded with another expiry, size or NDC.",
            field="lot_number",
        )
    elif lot.recalled_at is not None:
        raise Conflict("This lot has been recalled; do not stock it.", field="lot_number")
    Vial.objects.bulk_create(
        [
            Vial(
                lot=lot,
                clinic=clinic,
                source=source,
                patient=patient,
                delivered_on=delivered_on,
                cold_chain_ok=cold_chain_ok,
                received_by=actor,
            )
            for _ in range(vials)
        ]
    )
    audit.record(
        actor=actor,
        action="create",
        obj=lot,
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        patient_id=patient.pk if patient else None,
        changes={
            "lot_number": [None, lot.lot_number],
            "ndc": [None, lot.ndc],
            "expiry": [None, expiry],
            "size_units": [None, size_units],
            "vials": [None, vials],
            "source": [None, source],
        },
        summary=f"Received {vials} vial(s) of lot {lot.lot_number}",
    )
    return lot


@transaction.atomic(durable=True)
def discard_vial(
    *, actor: User, vial: Vial, reason: str, reason_code: str = WasteReason.OTHER
) -> Vial:
    locked = Vial.objects.select_for_update().select_related("lot").get(pk=vial.pk)
    _require(actor, Perm.INVENTORY_MANAGE, locked.clinic_id)
    if reason_code not in WasteReason.values:
        raise ValidationError({"reason_code": ["Choose why the vial is discarded."]})
    if not reason.strip() and reason_code == WasteReason.OTHER:
        raise ValidationError({"reason": ["Say why the vial is discarded."]})
    if locked.status in (VialStatus.USED, VialStatus.DISCARDED, VialStatus.RECALLED):
        raise Conflict("This vial is already used or discarded.")
    if locked.status == VialStatus.RECONSTITUTED:
        # Opened for a session not signed yet (signing settles every vial as used).
        raise Conflict("This vial belongs to a draft session; sign or edit the session instead.")
    before = locked.status
    wasted = facts.wasted_on_discard(locked.lot.size_units, Decimal(0))
    locked.status = VialStatus.DISCARDED
    locked.discarded_at = timezone.now()
    locked.discard_reason = reason.strip()
    locked.discard_reason_code = reason_code
    locked.units_wasted = wasted
    locked.save(
        update_fields=[
            "status",
            "discarded_at",
            "discard_reason",
            "discard_reason_code",
            "units_wasted",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        practice_id=locked.lot.practice_id,
        changes={"status": [before, locked.status], "units_wasted": [None, wasted]},
        summary=f"Discarded vial {locked.pk} of lot {locked.lot.lot_number}: "
        f"{WasteReason(reason_code).label} {reason[:100]}",
    )
    return locked


MAX_LOW_STOCK_VIALS = 500


@transaction.atomic(durable=True)
def set_low_stock_threshold(*, actor: User, clinic: Clinic, low_stock_vials: int) -> StockSettings:
    """The clinic's alert threshold (policy: usable clinic-stock vials per product)."""
    _require(actor, Perm.INVENTORY_CONFIGURE, clinic.pk)
    if not 0 <= low_stock_vials <= MAX_LOW_STOCK_VIALS:
        raise ValidationError(
            {"low_stock_vials": [f"Enter a number of vials from 0 to {MAX_LOW_STOCK_VIALS}."]}
        )
    row, _ = StockSettings.objects.select_for_update().get_or_create(clinic=clinic)
    before = row.low_stock_vials if row.pk else None
    row.low_stock_vials = low_stock_vials
    row.save()
    audit.record(
        actor=actor,
        action="update",
        obj=row,
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        changes={"low_stock_vials": [before, low_stock_vials]},
        summary=f"Low-stock alert of {clinic.name} set to {low_stock_vials} vials",
    )
    return row


@transaction.atomic(durable=True)
def record_count(
    *, actor: User, clinic: Clinic, lot: Lot, counted: int, note: str = ""
) -> StockCount:
    """A shelf count of one lot at one clinic against the vials the system holds in stock there;
    a difference needs a note (the count is recorded, the vials are not changed: a missing vial is
    found or discarded with its reason)."""
    _require(actor, Perm.INVENTORY_MANAGE, clinic.pk)
    if lot.practice_id != clinic.practice_id:
        raise ValidationError({"lot": ["Choose a lot of this practice."]})
    if not 0 <= counted <= 100_000:
        raise ValidationError({"counted": ["Enter the number of vials on the shelf."]})
    expected = (
        Vial.objects.select_for_update()
        .filter(clinic=clinic, lot=lot, status=VialStatus.IN_STOCK)
        .count()
    )
    if counted != expected and not note.strip():
        raise ValidationError(
            {
                "note": [
                    f"The shelf holds {counted} but the record says {expected}: say why in a note."
                ]
            }
        )
    row = StockCount.objects.create(
        clinic=clinic,
        lot=lot,
        expected=expected,
        counted=counted,
        note=note.strip(),
        counted_by=actor,
    )
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
        changes={"expected": [None, expected], "counted": [None, counted]},
        summary=f"Counted lot {lot.lot_number} at {clinic.name}: {counted} of {expected}",
    )
    return row


@transaction.atomic(durable=True)
def recall_lot(*, actor: User, lot: Lot, reason: str) -> int:
    """Mark the lot recalled and block its vials still in stock (every clinic of the practice).

    The administrator must act for the whole practice: a recall stops every clinic's vials.
    Returns the number of vials blocked.
    """
    locked = Lot.objects.select_for_update().get(pk=lot.pk)
    scope = actor.scope(Perm.LOT_RECALL) if actor is not None else None
    if scope is None or scope.practice_id != locked.practice_id:
        raise PermissionDenied("Your role does not allow recalling a lot.")
    if not scope.all_clinics:
        raise PermissionDenied(
            "A recall stops the lot in every clinic: ask a practice-wide administrator."
        )
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the lot is recalled (the notice)."]})
    if locked.recalled_at is not None:
        raise Conflict("This lot is already recalled.")
    now = timezone.now()
    locked.recalled_at = now
    locked.recalled_by = actor
    locked.recall_reason = reason.strip()
    locked.save(update_fields=["recalled_at", "recalled_by", "recall_reason", "updated_at"])
    blocked = Vial.objects.filter(lot=locked, status=VialStatus.IN_STOCK).update(
        status=VialStatus.RECALLED, updated_at=now
    )
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        practice_id=locked.practice_id,
        changes={"recalled_at": [None, now], "vials_blocked": [None, blocked]},
        summary=f"Recalled lot {locked.lot_number}: {blocked} vial(s) blocked",
    )
    return blocked


@transaction.atomic(durable=True)
def log_recall_contact(
    *, actor: User, lot: Lot, patient: Patient, method: str, note: str = ""
) -> RecallContact:
    """One contact attempt with a patient exposed to a recalled lot (the caller checks exposure)."""
    _require(actor, Perm.LOT_RECALL, patient.clinic_id)
    if lot.recalled_at is None:
        raise Conflict("Recall the lot before logging contacts.")
    if method not in ContactMethod.values:
        raise ValidationError({"method": ["Choose how the patient was contacted."]})
    row = RecallContact.objects.create(
        lot=lot, patient=patient, method=method, note=note.strip(), contacted_by=actor
    )
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        practice_id=lot.practice_id,
        changes={"method": [None, method]},
        summary=f"Recall of lot {lot.lot_number}: {ContactMethod(method).label}",
    )
    return row
