"""Plans, injection sessions and their sites, finding decisions, adverse effects, response reviews.

A signed session is immutable: the services refuse changes and database triggers (migration 0002)
refuse UPDATEs of a signed row and any write to its injections. Corrections are amendments: a new
session row with ``amends`` pointing at the original; signing the amendment turns the original's
status into ``amended`` (the only change a signed row accepts).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from bontrack.core.models import Clinic, TimeStamped
from bontrack.core.querysets import ClinicScopedQuerySet, PatientScopedQuerySet
from bontrack.patients.models import Patient
from bontrack.treatments.choices import (
    GIVEN_STATUSES,
    AdverseEffectKind,
    AdverseEffectStatus,
    DecisionKind,
    Diluent,
    Guidance,
    InjectionStatus,
    Reporter,
    ReviewDecision,
    SessionStatus,
    Side,
)

DEFAULT_PRODUCT = "onabotulinumtoxinA"  # clinic_rules Product code
DEFAULT_INDICATION = "chronic_migraine"  # clinic_rules Indication code
USER = settings.AUTH_USER_MODEL


# The clinic_rules protocol of clinic-defined, off-label treatment (facial pain and other
# conditions the label does not cover; issue 10 item 11), and its outcome instrument.
OFF_LABEL_INDICATION = "facial_pain"
PAIN_INSTRUMENT = "pain_nrs"


class ClinicProtocol(TimeStamped):
    """A clinic-defined protocol for a condition the BOTOX label does not cover (off-label): a
    physician names the condition and picks muscles, sides, sites and units from the
    vocabulary's muscles of the head, face and neck. Only the class-wide limits check its
    sessions; its outcome measure is a 0-10 pain rating and the patient's goals."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="clinic_protocols")
    name = models.CharField(max_length=120)
    condition = models.CharField(max_length=200)
    rationale = models.TextField(blank=True, max_length=2000)
    indication = models.CharField(max_length=40, default=OFF_LABEL_INDICATION)
    outcome_instrument = models.CharField(max_length=20, default=PAIN_INSTRUMENT)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-active", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "name"],
                condition=Q(active=True),
                name="clinic_protocol_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (off-label)"


class ClinicProtocolLine(models.Model):
    protocol = models.ForeignKey(ClinicProtocol, on_delete=models.CASCADE, related_name="lines")
    muscle = models.CharField(max_length=60)
    side = models.CharField(max_length=10, choices=Side.choices)
    sites = models.PositiveSmallIntegerField()
    units = models.DecimalField(max_digits=7, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sites__gte=1), name="cp_line_sites_positive"),
            models.CheckConstraint(condition=Q(units__gt=0), name="cp_line_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.muscle} {self.side} {self.sites} sites {self.units} U"


class TreatmentPlan(TimeStamped):
    """What to inject at the next session: PREEMPT lines plus follow-the-pain additions."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    indication = models.CharField(max_length=40, default=DEFAULT_INDICATION)
    product = models.CharField(max_length=40, default=DEFAULT_PRODUCT)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="successors"
    )
    review = models.ForeignKey(
        "ResponseReview", null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    note = models.CharField(max_length=1000, blank=True)
    # A plan of a clinic-defined, off-label protocol (facial pain and other conditions).
    clinic_protocol = models.ForeignKey(
        ClinicProtocol, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    # The order: a physician's signature on the plan. A plan saved by someone else is a draft
    # (no order) until a physician signs it.
    ordered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(null=True, blank=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ordered_by__isnull=True, ordered_at__isnull=True)
                | Q(ordered_by__isnull=False, ordered_at__isnull=False),
                name="plan_order_signed_consistent",
            ),
            models.UniqueConstraint(
                fields=["patient", "indication"],
                condition=Q(active=True),
                name="plan_one_active_per_indication",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan {self.pk} ({self.indication})"

    @property
    def is_ordered(self) -> bool:
        return self.ordered_at is not None


class PlanLine(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="lines")
    muscle = models.CharField(max_length=60)
    side = models.CharField(max_length=10, choices=Side.choices)
    sites = models.PositiveSmallIntegerField()
    units = models.DecimalField(max_digits=7, decimal_places=2)
    follow_the_pain = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sites__gte=1), name="plan_line_sites_positive"),
            models.CheckConstraint(condition=Q(units__gt=0), name="plan_line_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.muscle} {self.side} {self.sites} sites {self.units} U"


class ClinicTemplate(TimeStamped):
    """A clinic's own starting pattern for one indication: units per muscle and side.

    A new plan or session of that indication starts from the patient's last given session; a
    patient without one starts from the clinic's template (then the protocol's labelled one).
    ``lines`` is ``[{"muscle", "side", "sites", "units"}]`` (units as a decimal string), checked
    against the protocol's muscles by ``actions/templates.py``. Retired templates stay (plans
    and audit rows name them) with ``active`` False.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="treatment_templates")
    indication = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    note = models.CharField(max_length=1000, blank=True)
    lines = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["indication", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "indication", "name"],
                condition=Q(active=True),
                name="clinic_template_unique_name",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "indication", "active"], name="clinic_template_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.indication})"


class TreatmentSessionQuerySet(PatientScopedQuerySet):
    def current(self) -> TreatmentSessionQuerySet:
        """Sessions whose treatment was given and counts (signed, or signed by a nurse and
        awaiting a physician's co-signature; an amended original is replaced by its amendment).
        Dose windows, recall, check-ins and response reviews count these."""
        return self.filter(status__in=GIVEN_STATUSES)

    def claimable(self) -> TreatmentSessionQuerySet:
        """Sessions that may produce a claim: signed and not awaiting a co-signature."""
        return self.filter(status=SessionStatus.SIGNED)

    def awaiting_cosign(self) -> TreatmentSessionQuerySet:
        return self.filter(status=SessionStatus.AWAITING_COSIGN)


class TreatmentSession(TimeStamped):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="treatment_sessions")
    # The session's first (primary) indication: what recall and booking group sessions by.
    indication = models.CharField(max_length=40, default=DEFAULT_INDICATION)
    # Every indication the session treats, in order (the first is ``indication``); each injection
    # row names the one it belongs to. clinic_rules Indication codes.
    indications = models.JSONField(default=list, blank=True)
    product = models.CharField(max_length=40, default=DEFAULT_PRODUCT)
    performed_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.DRAFT
    )
    plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    amends = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    amendment_reason = models.CharField(max_length=1000, blank=True)
    consent_obtained = models.BooleanField(default=False)
    medication_guide_offered = models.BooleanField(default=False)
    diluent = models.CharField(max_length=20, choices=Diluent.choices, default=Diluent.SALINE_PF)
    note = models.TextField(blank=True, max_length=4000)
    # Stored at signing so the decision can be reproduced: the dose-check output and its rule set.
    findings = models.JSONField(default=list, blank=True)
    totals = models.JSONField(default=dict, blank=True)
    rule_set = models.CharField(max_length=60, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Why a nurse's signature needs a physician's co-signature, stored at signing:
    # [{"kind": "units" | "sites" | "muscle" | "side" | "indication" | "warning", "message"}].
    cosign_reasons = models.JSONField(default=list, blank=True)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = TreatmentSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=SessionStatus.DRAFT)
                | (Q(signed_at__isnull=False) & Q(signed_by__isnull=False) & ~Q(rule_set="")),
                name="session_signed_has_signature",
            ),
            models.UniqueConstraint(
                fields=["amends"],
                condition=Q(status=SessionStatus.DRAFT),
                name="session_one_draft_amendment",
            ),
            models.CheckConstraint(
                condition=Q(cosigned_at__isnull=True, cosigned_by__isnull=True)
                | (
                    Q(cosigned_at__isnull=False, cosigned_by__isnull=False)
                    & ~Q(status__in=[SessionStatus.DRAFT, SessionStatus.AWAITING_COSIGN])
                ),
                name="session_cosign_consistent",
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "status", "performed_at"], name="session_patient_status"
            ),
            models.Index(fields=["clinic", "performed_at"], name="session_clinic_date"),
            # The physician worklist: sessions awaiting co-signature, newest first (partial, so it
            # never competes with the recall index below).
            models.Index(
                fields=["signed_at", "id"],
                condition=Q(status=SessionStatus.AWAITING_COSIGN),
                name="session_awaiting_cosign",
            ),
            # The recall list's "last given (signed or awaiting co-signature) session per (patient, indication)" for one clinic's
            # patients: an index-only scan per patient, so its cost follows the clinic's own
            # history, not the practice's (docs/performance.md).
            models.Index(
                fields=["patient", "indication", "performed_at"],
                condition=Q(status__in=GIVEN_STATUSES),
                name="session_signed_last",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == SessionStatus.DRAFT

    @property
    def awaits_cosign(self) -> bool:
        return self.status == SessionStatus.AWAITING_COSIGN


class Injection(models.Model):
    """One charted injection point (usually one site); PREEMPT sessions have 31 of them."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="injections"
    )
    # Which of the session's indications (protocols) this site belongs to.
    indication = models.CharField(max_length=40, default=DEFAULT_INDICATION)
    muscle = models.CharField(max_length=60)
    side = models.CharField(max_length=10, choices=Side.choices)
    sites = models.PositiveSmallIntegerField(default=1)
    units = models.DecimalField(max_digits=7, decimal_places=2)
    status = models.CharField(
        max_length=10, choices=InjectionStatus.choices, default=InjectionStatus.DONE
    )
    follow_the_pain = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    # The dilution the site was drawn from, in units per 0.1 mL (blank: the session's vials').
    dilution = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # How the needle was placed (blank: not recorded).
    guidance = models.CharField(max_length=12, choices=Guidance.choices, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sites__gte=1), name="injection_sites_positive"),
            models.CheckConstraint(
                condition=Q(dilution__isnull=True) | Q(dilution__gt=0),
                name="injection_dilution_positive",
            ),
            models.CheckConstraint(
                condition=Q(guidance="") | Q(guidance__in=Guidance.values),
                name="injection_guidance_valid",
            ),
            models.CheckConstraint(condition=Q(units__gt=0), name="injection_units_positive"),
            models.CheckConstraint(
                condition=Q(status__in=InjectionStatus.values), name="injection_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.muscle} {self.side} {self.units} U"


class FindingDecision(models.Model):
    """A physician's override of a block or a clinician's acknowledgement of a warning, by rule ID."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="decisions"
    )
    rule_id = models.CharField(max_length=60)
    severity = models.CharField(max_length=10)
    kind = models.CharField(max_length=12, choices=DecisionKind.choices)
    message = models.CharField(max_length=500)
    reason = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "rule_id", "kind"], name="decision_once_per_rule"
            ),
            models.CheckConstraint(
                condition=~Q(kind=DecisionKind.OVERRIDE) | ~Q(reason=""),
                name="override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.rule_id}"


class CheckIn(models.Model):
    """The patient's follow-up check-in for one session (portal)."""

    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="checkin"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="checkins")
    submitted_at = models.DateTimeField()
    none_reported = models.BooleanField(default=False)
    comment = models.CharField(max_length=2000, blank=True)

    objects = PatientScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Check-in for session {self.session_id}"


class AdverseEffect(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_effects")
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="adverse_effects"
    )
    kind = models.CharField(max_length=20, choices=AdverseEffectKind.choices)
    detail = models.CharField(max_length=2000, blank=True)
    status = models.CharField(
        max_length=10, choices=AdverseEffectStatus.choices, default=AdverseEffectStatus.OPEN
    )
    reported_at = models.DateTimeField()
    reported_by = models.CharField(max_length=10, choices=Reporter.choices)
    reporter = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=1000, blank=True)
    # A symptom of the boxed warning's distant spread (clinic_rules BTX-SPREAD-URGENT-SYMPTOMS):
    # a physician reviews it the same day (``urgent_reviewed_at``).
    urgent = models.BooleanField(default=False)
    urgent_reviewed_at = models.DateTimeField(null=True, blank=True)
    urgent_reviewed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    urgent_review_note = models.CharField(max_length=1000, blank=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AdverseEffectKind.values), name="adverse_effect_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=AdverseEffectStatus.OPEN, resolved_at__isnull=True)
                | Q(status=AdverseEffectStatus.RESOLVED, resolved_at__isnull=False),
                name="adverse_effect_resolution_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="adverse_effect_patient"),
            models.Index(
                fields=["reported_at"],
                condition=Q(urgent=True, urgent_reviewed_at__isnull=True),
                name="adverse_effect_urgent_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"


class ResponseReview(models.Model):
    """The physician's continue / adjust / stop decision with the response result that informed it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="response_reviews")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    indication = models.CharField(max_length=40, default=DEFAULT_INDICATION)
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    reason = models.CharField(max_length=2000, blank=True)
    # [{"muscle", "side", "sites", "units"}]: lines to set in the next plan (adjust only).
    adjustments = models.JSONField(default=list, blank=True)
    cycles = models.PositiveSmallIntegerField()
    as_of = models.DateField()
    response_rule_set = models.CharField(max_length=10)
    rule_set = models.CharField(max_length=60)
    recommendation = models.CharField(max_length=30)
    result = models.JSONField()
    reviewed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=ReviewDecision.values), name="review_decision_valid"
            ),
            models.CheckConstraint(
                condition=~Q(decision=ReviewDecision.ADJUST) | ~Q(reason=""),
                name="review_adjust_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.decision} after {self.cycles} cycles"


class VialUse(TimeStamped):
    """A stocked vial drawn into one session: its dilution, who opened it and, once the session
    is signed, the units given from it and wasted (inventory keeps the vial's stock status).

    The primary key is the vial's, so a vial is used at most once and its id is the use's id.
    """

    vial = models.OneToOneField(
        "inventory.Vial", primary_key=True, on_delete=models.PROTECT, related_name="use"
    )
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="vial_uses"
    )
    reconstituted_at = models.DateTimeField()
    diluent_ml = models.DecimalField(max_digits=5, decimal_places=2)
    units_used = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    units_wasted = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the wasted units were wasted (inventory.choices.WasteReason; set at signing when a vial
    # wastes units: the rest of a single-dose vial unless the charting says otherwise).
    waste_reason = models.CharField(max_length=24, blank=True)
    waste_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["vial_id"]
        constraints = [
            models.CheckConstraint(condition=Q(diluent_ml__gt=0), name="vialuse_diluent_positive"),
            models.CheckConstraint(
                condition=Q(units_used__gte=0) & Q(units_wasted__gte=0),
                name="vialuse_units_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Vial {self.vial_id} in session {self.session_id}"

    @property
    def lot(self) -> Any:
        return self.vial.lot

    @property
    def status(self) -> str:
        return str(self.vial.status)


# Outcome scales, wearing-off dates and adjustment suggestions (issue 10 items 6-8).
from bontrack.treatments.scale_models import AdjustmentSuggestion as AdjustmentSuggestion  # noqa: E402
from bontrack.treatments.scale_models import ScaleEntry as ScaleEntry  # noqa: E402
from bontrack.treatments.scale_models import WearingOff as WearingOff  # noqa: E402
