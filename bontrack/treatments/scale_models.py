"""Outcome scales per indication, the wearing-off date of a session, adjustment suggestions.

Imported by ``treatments.models`` (one app, its own file to keep the models module readable).
Scores and figures come from ``clinic_rules`` (``questionnaire``, ``scale-schedule``,
``cycle-review``) through ``treatments.facts.scales``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from bontrack.core.models import Clinic
from bontrack.core.querysets import PatientScopedQuerySet
from bontrack.patients.models import Patient

USER = settings.AUTH_USER_MODEL


class ScaleInstrument(models.TextChoices):
    TWSTRS = "twstrs", "TWSTRS"
    TSUI = "tsui", "Tsui scale"
    JANKOVIC = "jankovic", "Jankovic Rating Scale"
    BDI = "bdi", "Blepharospasm Disability Index"
    MAS = "mas", "Modified Ashworth Scale"
    GAS = "gas", "Goal attainment scaling"
    PAIN_NRS = "pain_nrs", "Pain rating (0-10)"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ScaleEntry(models.Model):
    """One outcome scale as rated on a date for an indication (staff, or the patient in the portal)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scale_entries")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    indication = models.CharField(max_length=40)
    instrument = models.CharField(max_length=12, choices=ScaleInstrument.choices)
    taken_on = models.DateField()
    answers = models.JSONField()
    # The total where the scale has one (TWSTRS only when all three subscales were rated).
    score = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    result = models.JSONField()
    rule_set = models.CharField(max_length=60)
    entered_by_patient = models.BooleanField(default=False)
    entered_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["taken_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=ScaleInstrument.values), name="scale_entry_instrument"
            )
        ]
        indexes = [
            models.Index(fields=["patient", "indication", "taken_on"], name="scale_entry_patient")
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} on {self.taken_on}"


class WearingOff(models.Model):
    """The date the patient says a session's effect wore off (portal or staff entry)."""

    session = models.OneToOneField(
        "treatments.TreatmentSession", on_delete=models.PROTECT, related_name="wearing_off"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    worn_off_on = models.DateField()
    reported_by_patient = models.BooleanField(default=False)
    reporter = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    objects = PatientScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Effect wore off on {self.worn_off_on}"


class AdjustmentSuggestion(models.Model):
    """A clinic_rules suggestion drawn from a cycle; the clinician accepts or rejects it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    indication = models.CharField(max_length=40)
    session = models.ForeignKey(
        "treatments.TreatmentSession", on_delete=models.PROTECT, related_name="suggestions"
    )
    rule_id = models.CharField(max_length=60)
    title = models.CharField(max_length=300)
    reason = models.CharField(max_length=1000)
    note = models.CharField(max_length=500)
    source = models.CharField(max_length=120)
    confirmed = models.BooleanField()
    # [{"muscle", "side", "sites", "units"}]: the lines it would set on the next plan.
    adjustments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)
    # The plan an accepted suggestion produced (its adjustments applied).
    plan = models.ForeignKey(
        "treatments.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "rule_id"], name="suggestion_once_per_cycle"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SuggestionStatus.values), name="suggestion_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["patient", "indication"], name="suggestion_patient")]

    def __str__(self) -> str:
        return f"Suggestion {self.rule_id} ({self.status})"
