"""Demo stock: an alert level per clinic, a lot expiring within the alert window, specialty-
pharmacy vials for one patient, a shelf count with a discrepancy, waste reasons on the sessions'
vials, and the treatment history's earlier 200 U lot recalled with its exposure list and a few
contact log entries. Bulk rows inside the seed's one transaction (one audit row per run)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic, Practice
from bontrack.inventory.choices import ContactMethod, VialSource, VialStatus, WasteReason
from bontrack.inventory.models import Lot, RecallContact, StockCount, StockSettings, Vial
from bontrack.patients.models import Patient
from bontrack.treatments.models import VialUse

NEAR_EXPIRY_DAYS = 18
LOW_STOCK = {0: 6, 1: 30}  # clinic index -> alert level (the second clinic shows a low-stock alert)
RECALL_NOTICE = (
    "Manufacturer field notice: possible particulates in vials of this lot; stop use and contact "
    "treated patients."
)


def _user(practice: Practice, role: str, clinic: Clinic | None = None) -> User | None:
    qs = User.objects.filter(practice=practice, memberships__role=role)
    if clinic is not None:
        qs = qs.filter(memberships__clinic=clinic)
    return qs.order_by("pk").first()


def seed_demo_inventory(*, practice: Practice, today: date) -> dict[str, int]:
    from bontrack.ops.demo.diaries import DEMO_STAGES
    from bontrack.ops.demo.treatments import RECALLED_LOT_NUMBER

    clinics = list(Clinic.objects.filter(practice=practice).order_by("pk"))
    admin = _user(practice, Role.CLINIC_ADMIN)
    counts = {"recall_contacts": 0}
    # Waste reasons on the demo sessions' vials (written in bulk by the treatments demo).
    VialUse.objects.filter(
        session__patient__practice=practice, units_wasted__gt=0, waste_reason=""
    ).update(waste_reason=WasteReason.SINGLE_DOSE_REMAINDER)
    if not clinics:
        return counts
    StockSettings.objects.bulk_create(
        [
            StockSettings(clinic=c, low_stock_vials=LOW_STOCK.get(i, 6))
            for i, c in enumerate(clinics)
        ]
    )
    first = clinics[0]
    nurse = _user(practice, Role.NURSE, first) or admin
    # A lot expiring soon: the stock screen says to use it first.
    near = Lot.objects.create(
        practice=practice,
        ndc="00023-1145-01",
        lot_number="C2210E",
        expiry=today + timedelta(days=NEAR_EXPIRY_DAYS),
        size_units=100,
    )
    Vial.objects.bulk_create([Vial(lot=near, clinic=first, received_by=nurse) for _ in range(3)])
    # A specialty-pharmacy shipment for the responder (today's draft session can use it).
    responder = Patient.objects.filter(
        practice=practice, mrn=DEMO_STAGES.get("responder", "")
    ).first()
    if responder is not None:
        sp = Lot.objects.create(
            practice=practice,
            ndc="00023-3921-02",
            lot_number="SP88120",
            expiry=today + timedelta(days=240),
            size_units=200,
        )
        Vial.objects.bulk_create(
            [
                Vial(
                    lot=sp,
                    clinic=responder.clinic,
                    source=VialSource.SPECIALTY_PHARMACY,
                    patient=responder,
                    delivered_on=today - timedelta(days=2),
                    cold_chain_ok=True,
                    received_by=nurse,
                )
                for _ in range(2)
            ]
        )
    # A shelf count that found one vial fewer than the record.
    StockCount.objects.create(
        clinic=first,
        lot=near,
        expected=3,
        counted=2,
        note="One vial found cracked in the fridge door; set aside for discard.",
        counted_by=nurse,
    )
    # The earlier 200 U lot of the treatment history: its last vials recalled with the lot.
    recalled = Lot.objects.filter(practice=practice, lot_number=RECALLED_LOT_NUMBER).first()
    if recalled is not None and admin is not None:
        Vial.objects.bulk_create(
            [Vial(lot=recalled, clinic=c, status=VialStatus.RECALLED) for c in clinics[:2]]
        )
        Lot.objects.filter(pk=recalled.pk).update(
            recalled_at=timezone.now() - timedelta(days=1),
            recalled_by=admin,
            recall_reason=RECALL_NOTICE,
        )
        exposed = list(
            Patient.objects.filter(treatment_sessions__vial_uses__vial__lot=recalled)
            .distinct()
            .order_by("last_name", "pk")[:3]
        )
        logged = [
            (ContactMethod.CALLED, "Spoke to the patient; no new symptoms since the last session."),
            (ContactMethod.LEFT_MESSAGE, "Voicemail left asking to call the clinic."),
            (ContactMethod.LETTER_SENT, "Letter sent to the address on file."),
        ]
        RecallContact.objects.bulk_create(
            [
                RecallContact(lot=recalled, patient=p, method=m, note=note, contacted_by=admin)
                for p, (m, note) in zip(exposed, logged, strict=False)
            ]
        )
        counts["recall_contacts"] = min(len(exposed), len(logged))
    return counts
