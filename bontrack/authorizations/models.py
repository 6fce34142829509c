"""Prior authorizations: one payer's approval of units and visits for one patient and indication
over a validity window, and the documents sent or received with it.

Consumption (units and visits used) is never stored: it is the sum of the given sessions'
injections of that indication inside the validity (``selectors.with_consumption``, one query).
The payer is a name and a payer id on the authorization (the registration has no insurance
model yet).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bontrack.authorizations.choices import AuthStatus, DocumentKind
from bontrack.core.models import Clinic, TimeStamped
from bontrack.core.querysets import PatientScopedQuerySet, ScopedQuerySet
from bontrack.patients.models import Patient

USER = settings.AUTH_USER_MODEL


class Authorization(TimeStamped):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="authorizations")
    # The clinic that asked for it (the patient's clinic at the time): the list's clinic filter.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    payer_name = models.CharField(max_length=120)
    payer_id = models.CharField("payer ID", max_length=40, blank=True)
    # clinic_rules Indication code (treatments' protocols).
    indication = models.CharField(max_length=40)
    number = models.CharField("authorization number", max_length=60, blank=True)
    status = models.CharField(
        max_length=10, choices=AuthStatus.choices, default=AuthStatus.REQUESTED
    )
    units_approved = models.PositiveIntegerField(null=True, blank=True)
    visits_approved = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_until", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AuthStatus.values), name="authorization_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lte=F("valid_until")),
                name="authorization_dates_ordered",
            ),
            # An approval names its number, what it approves and when.
            models.CheckConstraint(
                condition=~Q(status=AuthStatus.APPROVED)
                | (
                    ~Q(number="")
                    & Q(units_approved__isnull=False)
                    & Q(visits_approved__isnull=False)
                    & Q(valid_from__isnull=False)
                    & Q(valid_until__isnull=False)
                ),
                name="authorization_approved_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "indication", "valid_until"], name="auth_patient"),
            models.Index(fields=["clinic", "status", "valid_until"], name="auth_clinic_status"),
        ]

    def __str__(self) -> str:
        return f"Authorization {self.number or self.pk} ({self.payer_name})"


class DocumentQuerySet(ScopedQuerySet):
    practice_path = "authorization__patient__practice"
    clinic_path = "authorization__patient__clinic"


class AuthorizationDocument(TimeStamped):
    """A file kept with an authorization: an upload (payer letter, fax) or a generated packet.

    The bytes live under ``DATA_DIR/authorizations/`` (``storage.py``); the row keeps the name
    shown, the checked content type, the size and the SHA-256 of what was stored."""

    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300, unique=True)
    # The rule-set versions a generated packet used (empty for uploads).
    rule_sets = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="auth_document_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name
