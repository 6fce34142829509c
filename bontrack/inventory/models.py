"""Lots and single-dose vials: a vial, once opened, belongs to one patient (its use in a session is
treatments.VialUse)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from bontrack.core.models import Clinic, Practice, TimeStamped
from bontrack.core.querysets import ClinicScopedQuerySet, ScopedQuerySet
from bontrack.inventory.choices import ContactMethod, VialSource, VialStatus, WasteReason
from bontrack.patients.models import Patient


class LotQuerySet(ScopedQuerySet):
    """Lots belong to the practice; any staff scope of the practice sees them."""

    practice_path = "practice"

    def in_scope(self, scope):  # type: ignore[no-untyped-def]
        return self.filter(practice_id=scope.practice_id)


class Lot(TimeStamped):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="lots")
    product = models.CharField(max_length=40, default="onabotulinumtoxinA")
    # 11-digit 5-4-2 form (inventory.ndc.normalize), as claims need it.
    ndc = models.CharField("NDC", max_length=13)
    lot_number = models.CharField(max_length=40)
    expiry = models.DateField()
    # Allowed sizes come from clinic_rules (BTX-VIAL-SIZES), checked in the service.
    size_units = models.PositiveSmallIntegerField()
    # Set once by a lot recall (inventory.services.recall_lot); its in-stock vials become recalled.
    recalled_at = models.DateTimeField(null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recall_reason = models.CharField(max_length=500, blank=True)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["expiry", "lot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "product", "lot_number"], name="lot_unique_per_practice"
            ),
            models.CheckConstraint(condition=Q(size_units__gt=0), name="lot_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_number} ({self.size_units} U, exp {self.expiry:%Y-%m-%d})"


class VialQuerySet(ClinicScopedQuerySet):
    pass


class Vial(TimeStamped):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="vials")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="vials")
    status = models.CharField(
        max_length=14, choices=VialStatus.choices, default=VialStatus.IN_STOCK
    )
    # Whole vial wasted when discarded from stock (a vial used in a session has its units given
    # and wasted on its treatments.VialUse row).
    units_wasted = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="vials"
    )
    discarded_at = models.DateTimeField(null=True, blank=True)
    discard_reason = models.CharField(max_length=300, blank=True)
    discard_reason_code = models.CharField(max_length=24, choices=WasteReason.choices, blank=True)
    # Where the vial came from: clinic stock (buy and bill) or a specialty-pharmacy shipment for
    # one patient (``patient`` set at receipt; only that patient's sessions may use it).
    source = models.CharField(
        max_length=20, choices=VialSource.choices, default=VialSource.CLINIC_STOCK
    )
    delivered_on = models.DateField(null=True, blank=True)
    cold_chain_ok = models.BooleanField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = VialQuerySet.as_manager()

    class Meta:
        ordering = ["lot__expiry", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VialStatus.values), name="vial_status_valid"
            ),
            # Single-dose vial: once opened it belongs to one patient (its session and dilution
            # are on treatments.VialUse).
            models.CheckConstraint(
                condition=~Q(status__in=[VialStatus.RECONSTITUTED, VialStatus.USED])
                | Q(patient__isnull=False),
                name="vial_opened_has_patient",
            ),
            models.CheckConstraint(
                condition=Q(units_wasted__gte=0), name="vial_units_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(source__in=VialSource.values), name="vial_source_valid"
            ),
            # A specialty-pharmacy vial is dispensed for one patient, delivered and checked cold.
            models.CheckConstraint(
                condition=~Q(source=VialSource.SPECIALTY_PHARMACY)
                | (
                    Q(patient__isnull=False) & Q(delivered_on__isnull=False) & Q(cold_chain_ok=True)
                ),
                name="vial_specialty_has_patient",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "status"], name="vial_clinic_status"),
            models.Index(fields=["lot", "status"], name="vial_lot_status"),
        ]

    def __str__(self) -> str:
        return f"Vial {self.pk} of lot {self.lot.lot_number}"


class StockSettingsQuerySet(ClinicScopedQuerySet):
    pass


class StockSettings(TimeStamped):
    """A clinic's stock alert threshold (policy, set by its administrator; not a clinical number)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="stock_settings")
    # Alert when a product's usable clinic-stock vials fall below this count.
    low_stock_vials = models.PositiveSmallIntegerField(default=4)

    objects = StockSettingsQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Stock settings of {self.clinic}"


class StockCountQuerySet(ClinicScopedQuerySet):
    pass


class StockCount(TimeStamped):
    """A physical count of one lot's vials on the shelf of one clinic, against what the system
    expected; a discrepancy carries a note."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="stock_counts")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="counts")
    expected = models.PositiveIntegerField()
    counted = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = StockCountQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected=models.F("counted")) | ~Q(note=""),
                name="stockcount_discrepancy_has_note",
            )
        ]

    @property
    def discrepancy(self) -> int:
        return self.counted - self.expected

    def __str__(self) -> str:
        return f"Count of lot {self.lot_id} at {self.clinic_id}: {self.counted}/{self.expected}"


class RecallContactQuerySet(ScopedQuerySet):
    practice_path = "lot__practice"
    clinic_path = "patient__clinic"


class RecallContact(TimeStamped):
    """One attempt to reach a patient exposed to a recalled lot."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="recall_contacts")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="recall_contacts")
    method = models.CharField(max_length=14, choices=ContactMethod.choices)
    note = models.CharField(max_length=500, blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RecallContactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lot", "patient"], name="recallcontact_lot_patient")]
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=ContactMethod.values), name="recallcontact_method_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} for lot {self.lot_id}"
