from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone.")


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Practice(TimeStamped):
    """A tenant: one medical practice with one or more clinics."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.name


def default_time_zone() -> str:
    return settings.CLINIC_TIME_ZONE


class Clinic(TimeStamped):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="clinics")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60)
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Where staff notifications go (e.g. an urgent adverse-effect report); blank: none are sent.
    contact_email = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "slug"], name="clinic_slug_unique_per_practice"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramPolicy(TimeStamped):
    """Practice policy knobs for the chronic migraine program; empty = clinic_rules default."""

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="program_policy"
    )
    failed_preventive_classes_required = models.PositiveSmallIntegerField(null=True, blank=True)
    # Allowed values are clinic_rules' (core.policy.facts.schema()); the service asks it.
    response_rule_set = models.CharField(max_length=8, blank=True)
    cumulative_window_days = models.PositiveSmallIntegerField(null=True, blank=True)
    early_retreatment = models.CharField(max_length=8, blank=True)
    # Treatment outside a labelled age (off-label): "warn" (a physician acknowledges it with a
    # reason) or "block" (a physician override); empty = clinic_rules' default.
    off_label_age = models.CharField(max_length=8, blank=True)
    require_4h_for_headache_day = models.BooleanField(null=True, blank=True)
    count_probable_as_migraine = models.BooleanField(null=True, blank=True)
    min_diary_completeness = models.DecimalField(
        max_digits=3, decimal_places=2, null=True, blank=True
    )
    bilateral_billing = models.CharField(max_length=12, blank=True)

    class Meta:
        db_table = "diaries_programpolicy"  # the table predates the move to core

    def __str__(self) -> str:
        return f"Program policy of practice {self.practice_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending (leased)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OutboxMessage(models.Model):
    """A message to deliver, written in the transaction of the change that caused it."""

    channel = models.CharField(max_length=8)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    attachments = models.JSONField(default=list)
    dedupe_key = models.CharField(max_length=200, unique=True)
    topic = models.CharField(max_length=80, blank=True, db_index=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_after = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "scheduling_outboxmessage"  # the table predates the move to core
        indexes = [models.Index(fields=["status", "send_after"], name="outbox_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="outbox_channel_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}: {self.subject}"
