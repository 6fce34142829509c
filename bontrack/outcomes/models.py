"""Rollup tables behind the program dashboard.

- ``RefreshMark``: patients whose figures must be recomputed (a queue; one row per patient).
- ``PatientOutcome``: one row per patient in the program: stage, physician, indication, sessions.
- ``OutcomeFact``: what one patient contributes to the dashboard, per month and metric (kept so that
  a refresh can take the patient's old contribution back out of the buckets, and for the
  click-through to the patients behind a number).
- ``OutcomeBucket``: the sums per practice, clinic, physician, indication, month, metric and key:
  what the dashboard adds up (a few thousand rows for a network, whatever the diary's size).

Dimensions are plain integers (``physician_id`` 0 when nobody signed yet) so that the buckets'
unique key has no NULL in it.
"""

from __future__ import annotations

from django.db import models

from bontrack.core.models import Clinic, Practice
from bontrack.patients.models import Patient


class Stage(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    ELIGIBLE = "eligible", "Eligible, not treated yet"
    EARLY = "early", "In cycle 1-2"
    CONTINUING = "continuing", "Continuing"
    STOPPED = "stopped", "Stopped"


class RefreshMark(models.Model):
    patient = models.OneToOneField(
        Patient, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    marked_at = models.DateTimeField()

    class Meta:
        ordering = ["marked_at"]

    def __str__(self) -> str:
        return f"refresh patient {self.patient_id}"


class PatientOutcome(models.Model):
    patient = models.OneToOneField(
        Patient, primary_key=True, on_delete=models.CASCADE, related_name="outcome"
    )
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    physician_id = models.IntegerField(default=0)
    indication = models.CharField(max_length=40, blank=True)
    stage = models.CharField(max_length=12, choices=Stage.choices)
    sessions = models.PositiveIntegerField(default=0)
    first_session = models.DateField(null=True, blank=True)
    last_session = models.DateField(null=True, blank=True)
    # The day the next session is due at the latest to stay on the 12-14 week rhythm.
    due_by = models.DateField(null=True, blank=True)
    # The day a figure of this patient changes without a write (the assessment after two cycles
    # falls due when the third session is late): the refresh job picks the patient up then.
    recheck_on = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["practice", "stage"], name="outcome_practice_stage"),
            models.Index(fields=["practice", "due_by"], name="outcome_practice_due"),
            models.Index(fields=["recheck_on"], name="outcome_recheck"),
        ]

    def __str__(self) -> str:
        return f"patient {self.patient_id}: {self.stage}"


class OutcomeFact(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    practice_id = models.IntegerField()
    clinic_id = models.IntegerField()
    physician_id = models.IntegerField(default=0)
    indication = models.CharField(max_length=40, blank=True)
    month = models.DateField()
    metric = models.CharField(max_length=20)
    key = models.CharField(max_length=30, blank=True)
    n = models.IntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["patient"], name="outcome_fact_patient"),
            models.Index(
                fields=["practice_id", "metric", "key", "month", "patient"],
                name="outcome_fact_lookup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.month} {self.metric}:{self.key}"


class OutcomeBucket(models.Model):
    practice_id = models.IntegerField()
    clinic_id = models.IntegerField()
    physician_id = models.IntegerField(default=0)
    indication = models.CharField(max_length=40, blank=True)
    month = models.DateField()
    metric = models.CharField(max_length=20)
    key = models.CharField(max_length=30, blank=True)
    n = models.BigIntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "practice_id",
                    "month",
                    "metric",
                    "key",
                    "clinic_id",
                    "physician_id",
                    "indication",
                ],
                name="outcome_bucket_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.metric}:{self.key} n={self.n}"
