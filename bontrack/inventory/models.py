"""Lots and single-dose vials: a vial, once opened, belongs to one patient (its use in a session is
treatments.VialUse)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from bontrack.core.models import Clinic, Practice, TimeStamped
from bontrack.core.querysets import ClinicScopedQuerySet
from bontrack.inventory.choices import VialStatus
from bontrack.patients.models import Patient


class Lot(TimeStamped):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="lots")
    product = models.CharField(max_length=40, default="onabotulinumtoxinA")
    ndc = models.CharField("NDC", max_length=20)
    lot_number = models.CharField(max_length=40)
    expiry = models.DateField()
    # Allowed sizes come from clinic_rules (BTX-VIAL-SIZES), checked in the service.
    size_units = models.PositiveSmallIntegerField()

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
        ]
        indexes = [models.Index(fields=["clinic", "status"], name="vial_clinic_status")]

    def __str__(self) -> str:
        return f"Vial {self.pk} of lot {self.lot.lot_number}"
