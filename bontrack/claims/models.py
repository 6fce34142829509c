"""Claims: one per claimable (signed) session, its lines from clinic_rules ``billing-lines``, every
edit kept with its reason, export batches (CSV, X12 837P, superbill PDF), coverage and the
practice's billing identity."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from bontrack.claims.choices import ClaimStatus, FilingIndicator, Guidance
from bontrack.core.models import Clinic, Practice, TimeStamped
from bontrack.core.querysets import ClinicScopedQuerySet, PatientScopedQuerySet, ScopedQuerySet
from bontrack.patients.choices import SubscriberRelationship
from bontrack.patients.models import Patient
from bontrack.treatments.models import TreatmentSession

USER = settings.AUTH_USER_MODEL


class BillingProfile(TimeStamped):
    """Who bills: the practice's billing provider (NPI, tax ID, address) and the EDI identities."""

    practice = models.OneToOneField(
        Practice, on_delete=models.PROTECT, related_name="billing_profile"
    )
    name = models.CharField(max_length=60)
    npi = models.CharField("NPI", max_length=10)
    tax_id = models.CharField("Tax ID (EIN)", max_length=9)
    address = models.CharField(max_length=55)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=9)
    phone = models.CharField(max_length=10)
    contact = models.CharField(max_length=60)
    submitter_id = models.CharField(max_length=15)
    receiver_name = models.CharField(max_length=60)
    receiver_id = models.CharField(max_length=15)
    usage = models.CharField(max_length=1, default="T")  # ISA15: T test, P production
    # The practice's fee schedule: {code: charge per unit} (a price list, not a clinical number).
    fees = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (NPI {self.npi})"


class CoverageQuerySet(PatientScopedQuerySet):
    pass


class Coverage(TimeStamped):
    """The patient's primary insurance as billing keeps it. It starts from the registration
    (payer, member ID, group, subscriber, address: ``claims.registration``); payer ID and claim
    filing indicator are billing's own. ``registration`` keeps the registration's values as they
    were when billing saved, so a later registration edit can be told apart from billing's
    deliberate changes."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="coverage")
    payer_name = models.CharField(max_length=60)
    payer_id = models.CharField(max_length=20)
    member_id = models.CharField(max_length=30)
    filing_indicator = models.CharField(
        max_length=2, choices=FilingIndicator.choices, default=FilingIndicator.MEDICARE_B
    )
    group_number = models.CharField(max_length=50, blank=True)  # SBR03
    # Who holds the policy, seen from the patient (the registration's choices): "self" makes the
    # patient the subscriber; otherwise the 837P names the policy holder in 2010BA.
    subscriber_relationship = models.CharField(
        max_length=10, choices=SubscriberRelationship.choices, default=SubscriberRelationship.SELF
    )
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_first_name = models.CharField(max_length=35, blank=True)
    address = models.CharField(max_length=55)
    address2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=9)
    registration = models.JSONField(default=dict, blank=True)

    objects = CoverageQuerySet.as_manager()

    @property
    def dependent(self) -> bool:
        return self.subscriber_relationship != SubscriberRelationship.SELF

    def __str__(self) -> str:
        return f"{self.payer_name} {self.member_id}"


class BatchQuerySet(ScopedQuerySet):
    """A batch belongs to the practice; a clinic-bound biller sees the batches of their clinics."""

    practice_path = "practice"
    clinic_path = "clinic"

    def in_scope(self, scope):  # type: ignore[no-untyped-def]
        if scope is None:
            return self.none()
        qs = self.filter(practice_id=scope.practice_id)
        if not scope.all_clinics:
            qs = qs.filter(clinic_id__in=scope.clinic_ids)
        return qs


class ClaimBatch(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="claim_batches")
    # The clinic the batch was limited to (empty: every clinic of the exporter's scope).
    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    claim_count = models.PositiveIntegerField(default=0)
    total_charge = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # The files as sent (downloads return these bytes, never a re-rendering).
    csv_text = models.TextField(blank=True)
    x12_text = models.TextField(blank=True)
    x12_errors = models.JSONField(default=list, blank=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Batch {self.pk}"

    @property
    def control_number(self) -> str:
        return f"{self.pk:09d}"


class ClaimQuerySet(ClinicScopedQuerySet):
    def in_queue(self) -> ClaimQuerySet:
        return self.exclude(status=ClaimStatus.SUPERSEDED)


class Claim(TimeStamped):
    session = models.OneToOneField(TreatmentSession, on_delete=models.PROTECT, related_name="claim")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="claims")
    service_date = models.DateField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.READY)
    # Why the claim needs attention: plain sentences (empty when ready).
    attention = models.JSONField(default=list, blank=True)
    # clinic_rules' findings of the last evaluation (messages with their rule IDs) and totals.
    findings = models.JSONField(default=list, blank=True)
    totals = models.JSONField(default=dict, blank=True)
    rule_set = models.CharField(max_length=60, blank=True)
    indications = models.JSONField(default=list, blank=True)
    diagnoses = models.JSONField(default=list, blank=True)  # ICD-10-CM codes, HI order
    guidance = models.CharField(max_length=12, choices=Guidance.choices, default=Guidance.NONE)
    batch = models.ForeignKey(
        ClaimBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    exported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paid_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    denial_reason = models.CharField(max_length=500, blank=True)
    reviewed_note = models.CharField(max_length=500, blank=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-service_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ClaimStatus.values), name="claim_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ClaimStatus.DENIED) | ~Q(denial_reason=""),
                name="claim_denied_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "service_date"], name="claim_queue"),
            models.Index(fields=["status", "service_date", "id"], name="claim_status_date"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.pk} ({self.status})"

    @property
    def editable(self) -> bool:
        return self.status in (ClaimStatus.READY, ClaimStatus.NEEDS_ATTENTION)

    @property
    def number(self) -> str:
        """The patient control number sent in CLM01 (unique per practice)."""
        return f"BT{self.pk:07d}"


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=5)  # CPT or HCPCS
    modifiers = models.JSONField(default=list, blank=True)  # up to 4 two-character modifiers
    units = models.DecimalField(max_digits=8, decimal_places=2)
    # ICD-10-CM codes this line is for (their pointers into claim.diagnoses are computed).
    icd10 = models.JSONField(default=list, blank=True)
    charge = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    ndc = models.CharField("NDC (11 digits)", max_length=11, blank=True)
    ndc_qualifier = models.CharField(max_length=2, blank=True)  # N4 when an NDC is attached
    ndc_unit = models.CharField(max_length=2, blank=True)  # UN (unit)
    ndc_quantity = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    indication = models.CharField(max_length=40, blank=True)
    rule_id = models.CharField(max_length=40, blank=True)  # the clinic_rules rule behind the line
    edited = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="claimline_units_positive"),
            models.CheckConstraint(
                condition=Q(charge__gte=0), name="claimline_charge_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {'/'.join(self.modifiers)} x{self.units}"

    @property
    def pointers(self) -> list[int]:
        dx = list(self.claim.diagnoses)
        return [dx.index(c) + 1 for c in self.icd10 if c in dx][:4]


class ClaimEdit(models.Model):
    """One change of a claim by billing staff: what, before, after and why (the audit row too)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="edits")
    line = models.ForeignKey(
        ClaimLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="edits"
    )
    field = models.CharField(max_length=40)
    before = models.CharField(max_length=300, blank=True)
    after = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=500)
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="claimedit_has_reason")]

    def __str__(self) -> str:
        return f"{self.field}: {self.before} -> {self.after}"
