"""Headache diary days, questionnaires, consultation notes, eligibility and practice policy."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from bontrack.core.models import Practice, TimeStamped
from bontrack.core.querysets import PatientScopedQuerySet
from bontrack.diaries.choices import (
    AcuteClass,
    AssignedFor,
    Decision,
    DiarySource,
    ImportStatus,
    Instrument,
    PostureComponent,
    PostureDirection,
    Severity,
    ToxinProduct,
    TreatDecision,
)
from bontrack.patients.models import Patient

FEATURES = (
    "unilateral",
    "pulsating",
    "worse_with_activity",
    "nausea",
    "vomiting",
    "photophobia",
    "phonophobia",
    "aura",
)


class DiaryDay(TimeStamped):
    """One day of a patient's headache diary. A day without a row is missing, never headache-free."""

    # No single-column index: the unique (patient, date) index serves patient lookups, and
    # one index less makes bulk imports faster.
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="diary_days", db_index=False
    )
    date = models.DateField()
    headache = models.BooleanField()
    hours = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.NONE)
    unilateral = models.BooleanField(default=False)
    pulsating = models.BooleanField(default=False)
    worse_with_activity = models.BooleanField(default=False)
    nausea = models.BooleanField(default=False)
    vomiting = models.BooleanField(default=False)
    photophobia = models.BooleanField(default=False)
    phonophobia = models.BooleanField(default=False)
    aura = models.BooleanField(default=False)
    aura_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    triptan_or_ergot_relief = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=12, choices=DiarySource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "date"], name="diary_day_unique"),
            models.CheckConstraint(
                condition=Q(severity__gte=0) & Q(severity__lte=3), name="diary_severity_scale"
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | (Q(hours__gte=0) & Q(hours__lte=24)),
                name="diary_hours_in_day",
            ),
            models.CheckConstraint(
                condition=Q(headache=True) | (Q(severity=0) & Q(hours__isnull=True)),
                name="diary_headache_free_is_empty",
            ),
            models.CheckConstraint(
                condition=Q(source__in=DiarySource.values), name="diary_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.date}: {'headache' if self.headache else 'no headache'}"


class DiaryMedication(models.Model):
    day = models.ForeignKey(DiaryDay, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=100)
    drug_class = models.CharField(max_length=30, choices=AcuteClass.choices)
    doses = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(drug_class__in=AcuteClass.values), name="diary_med_class_valid"
            ),
            models.CheckConstraint(
                condition=Q(doses__gte=1) & Q(doses__lte=50), name="diary_med_doses_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.drug_class})"


class DiaryDayRevision(models.Model):
    """The state of a diary day before an edit (its history); the audit row says who and why."""

    day = models.ForeignKey(DiaryDay, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    source = models.CharField(max_length=12, choices=DiarySource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField(auto_now_add=True)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["day", "version"]
        constraints = [
            models.UniqueConstraint(fields=["day", "version"], name="diary_revision_unique")
        ]

    def __str__(self) -> str:
        return f"day {self.day_id} v{self.version}"


class QuestionnaireResponse(TimeStamped):
    """An assigned questionnaire; answered when `completed_at` is set."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="questionnaires")
    instrument = models.CharField(max_length=10, choices=Instrument.choices)
    assigned_for = models.CharField(max_length=20, choices=AssignedFor.choices)
    due_date = models.DateField()
    answers = models.JSONField(null=True, blank=True)
    score = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    band = models.CharField(max_length=120, blank=True)
    valid = models.BooleanField(null=True)
    rule_set = models.CharField(max_length=60, blank=True)
    result = models.JSONField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # True when staff entered the answers on the patient's behalf (paper form, phone call).
    entered_by_staff = models.BooleanField(default=False)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "instrument", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument"],
                condition=Q(assigned_for="baseline"),
                name="questionnaire_one_baseline",
            ),
            models.UniqueConstraint(
                fields=["patient", "instrument", "due_date"],
                condition=Q(assigned_for="pre_treatment"),
                name="questionnaire_one_per_treatment",
            ),
            models.CheckConstraint(
                condition=Q(instrument__in=Instrument.values), name="questionnaire_instrument"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "completed_at"], name="questionnaire_patient_done")
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} ({self.get_assigned_for_display()})"

    @property
    def pending(self) -> bool:
        return self.completed_at is None


class ConsultationNote(TimeStamped):
    """The consultation for one indication: the patient's pre-visit answers and the physician's
    note, prior toxin treatments (each in its own product's units), the posture (cervical
    dystonia) and the decision to treat with its reasons."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consultations")
    # A clinic_rules indication code (protocols-us); notes written before issue 10 were migraine.
    indication = models.CharField(max_length=40, default="chronic_migraine")
    visit_date = models.DateField(null=True, blank=True)
    # Filled by the patient in the portal before the visit.
    patient_history = models.TextField(blank=True)
    patient_symptoms = models.TextField(blank=True)
    patient_previous_treatments = models.TextField(blank=True)
    patient_goals = models.TextField(blank=True)
    patient_submitted_at = models.DateTimeField(null=True, blank=True)
    # Written by staff.
    history = models.TextField(blank=True)
    symptoms = models.TextField(blank=True)
    previous_treatments = models.TextField(blank=True)
    goals = models.TextField(blank=True)
    examination = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    # The decision to treat (physician), with its reasons.
    decision = models.CharField(max_length=20, choices=TreatDecision.choices, blank=True)
    decision_reasons = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=TreatDecision.values),
                name="consultation_decision_valid",
            ),
            models.UniqueConstraint(
                fields=["patient", "indication"],
                condition=Q(signed_at__isnull=True),
                name="consultation_one_draft_per_indication",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "indication", "-created_at"], name="consult_ind")
        ]

    def __str__(self) -> str:
        return f"Consultation {self.pk} of patient {self.patient_id}"


class PriorToxinTreatment(models.Model):
    """A botulinum toxin the patient had before, in that product's own units. Units of one
    product never convert to another's (clinical facts §1.0, S26, S26b): nothing adds them up."""

    consultation = models.ForeignKey(
        ConsultationNote, on_delete=models.CASCADE, related_name="prior_toxins"
    )
    product = models.CharField(max_length=30, choices=ToxinProduct.choices)
    units = models.DecimalField(max_digits=7, decimal_places=2)
    last_given_on = models.DateField(null=True, blank=True)
    muscles = models.CharField(max_length=300, blank=True)
    response = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_given_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__in=ToxinProduct.values), name="prior_toxin_product_valid"
            ),
            models.CheckConstraint(condition=Q(units__gt=0), name="prior_toxin_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.units} U of {self.get_product_display()}"


class PostureAssessment(models.Model):
    """The cervical dystonia posture at one visit: one row per component seen, each with its
    direction."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="postures")
    consultation = models.ForeignKey(
        ConsultationNote,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="postures",
    )
    visit_date = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-visit_date", "-id"]
        indexes = [models.Index(fields=["patient", "-visit_date"], name="posture_patient_date")]

    def __str__(self) -> str:
        return f"Posture on {self.visit_date}"


class PostureFinding(models.Model):
    assessment = models.ForeignKey(
        PostureAssessment, on_delete=models.CASCADE, related_name="findings"
    )
    component = models.CharField(max_length=20, choices=PostureComponent.choices)
    direction = models.CharField(max_length=10, choices=PostureDirection.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "component", "direction"], name="posture_finding_unique"
            ),
            models.CheckConstraint(
                condition=Q(component__in=PostureComponent.values), name="posture_component_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=PostureDirection.values), name="posture_direction_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_component_display()} {self.get_direction_display()}"


class EligibilityAssessment(models.Model):
    """A physician's decision on the clinic_rules eligibility result, with its inputs' version."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="eligibility")
    as_of = models.DateField()
    status = models.CharField(max_length=20)  # clinic_rules: eligible | not_yet | not_eligible
    result = models.JSONField()
    rule_set = models.CharField(max_length=60)
    rule_sets = models.JSONField(default=list)
    policy = models.JSONField(default=dict)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="eligibility_decision_valid"
            )
        ]
        indexes = [models.Index(fields=["patient", "-decided_at"], name="eligibility_patient")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.as_of}"


class DiaryImport(TimeStamped):
    """A CSV import job: validated in chunks, written all-or-nothing; polled for progress."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    path = models.CharField(max_length=500)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    written_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (ImportStatus.DONE, ImportStatus.FAILED) else 0
        return min(100, int(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
