from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditImmutableError(Exception):
    """Audit rows are append-only."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("Audit events cannot be updated.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("Audit events cannot be deleted.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        objs = list(objs)
        if any(not obj.hash for obj in objs):
            raise AuditImmutableError("Audit events are appended through audit.append_many().")
        return super().bulk_create(objs, *args, **kwargs)

    def for_patient(self, patient_id: int) -> AuditEventQuerySet:
        return self.filter(patient_id=patient_id).order_by("-occurred_at", "-id")


class AuditEvent(models.Model):
    """Who did what to which record, when, from where, and what changed.

    Append-only and tamper-evident: the model and queryset refuse updates and deletes, database
    triggers refuse UPDATE, DELETE and TRUNCATE (see docs/audit.md), and each row is chained to
    the previous row of its practice: `seq` counts the chain, `hash` is SHA-256 over the row's
    canonical JSON including `prev_hash` (bontrack.audit.chain). `audit verify` walks the chains.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        DENIED = "denied"
        FAILURE = "failure"

    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=120, blank=True)
    practice = models.ForeignKey(
        "core.Practice",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    clinic = models.ForeignKey(
        "core.Clinic",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    channel = models.CharField(max_length=16, default="system")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["patient", "-occurred_at"], name="audit_patient_time"),
            models.Index(fields=["practice", "-occurred_at"], name="audit_practice_time"),
        ]
        constraints = [
            # One position per chain; rows with no practice form their own chain (seq unique there too).
            models.UniqueConstraint(fields=["practice", "seq"], name="audit_chain_seq"),
            models.UniqueConstraint(
                fields=["seq"], condition=models.Q(practice__isnull=True), name="audit_system_seq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutableError("Audit events cannot be updated.")
        if not self.hash:
            raise AuditImmutableError("Audit events are appended through audit.record().")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The tip of one practice's chain (chain 0: rows with no practice).

    `audit.record()` locks this row (SELECT ... FOR UPDATE) to append, so concurrent writers of one
    practice serialise instead of forking the chain; `audit verify` also compares it with the last row
    (a deleted tail or a row appended outside record() shows as a break).
    """

    chain = models.BigIntegerField(unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    occurred_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain {self.chain} at {self.seq}"
