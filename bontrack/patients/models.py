from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Upper

from bontrack.core.models import Clinic, Practice, TimeStamped
from bontrack.core.querysets import ScopedQuerySet
from bontrack.patients.choices import (
    CONTRAINDICATION_FLAGS,
    ContactChannel,
    Flag,
    Indication,
    Language,
    MergeStatus,
    PatientStatus,
    PreventiveClass,
    PriorOutcome,
    Sex,
    SubscriberRelationship,
)


def name_key(last_name: str, first_name: str) -> str:
    return f"{last_name} {first_name}".casefold().strip()


class PatientQuerySet(ScopedQuerySet):
    """Rows the scope reaches: the practice, and its clinics unless the role spans the practice."""

    practice_path = "practice"
    clinic_path = "clinic"

    def for_user(self, user: object, perm: str) -> PatientQuerySet:
        scope = user.scope(perm) if getattr(user, "is_staff_member", False) else None  # type: ignore[attr-defined]
        return self.in_scope(scope)

    def search(self, text: str) -> PatientQuerySet:
        """Rows matching `text`, with `match_order` (= name_key) to page them by: see
        SEARCH_ORDER."""
        from bontrack.patients.search import search_filter

        return self.filter(search_filter(text)).annotate(match_order=_Unindexed(F("name_key")))


class _Unindexed(Func):
    """The same text, as an expression no index provides in order: a search's page is then
    sorted from the rows its indexes find (PostgreSQL's trigram / MRN / date-of-birth indexes)
    instead of walking the whole name index in order and filtering (docs/performance.md)."""

    template = "(%(expressions)s || '')"
    output_field = models.CharField()


# Keyset order of a search's pages (a page cursor holds the same values as NAME_ORDER's).
SEARCH_ORDER = ("match_order", "id")
NAME_ORDER = ("name_key", "id")


class Patient(TimeStamped):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=32)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    preferred_contact = models.CharField(
        max_length=10, choices=ContactChannel.choices, default=ContactChannel.EMAIL
    )
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.EN
    )
    status = models.CharField(
        max_length=12, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    name_key = models.CharField(max_length=210, editable=False, db_index=False)
    # Address and insurance (registration; issue 11 item 2).
    address_line1 = models.CharField("Address", max_length=200, blank=True)
    address_line2 = models.CharField("Address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField("State", max_length=40, blank=True)
    postal_code = models.CharField("ZIP code", max_length=12, blank=True)
    insurance_payer = models.CharField("Insurance payer", max_length=120, blank=True)
    insurance_member_id = models.CharField("Member ID", max_length=40, blank=True)
    insurance_group = models.CharField("Group number", max_length=40, blank=True)
    subscriber_name = models.CharField("Subscriber name", max_length=200, blank=True)
    subscriber_relationship = models.CharField(
        "Subscriber's relationship to the patient",
        max_length=10,
        choices=SubscriberRelationship.choices,
        blank=True,
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "mrn"], name="patient_mrn_unique_per_practice"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="patient_sex_valid"),
        ]
        indexes = [
            models.Index(fields=["practice", "name_key", "id"], name="patient_practice_name"),
            models.Index(fields=["practice", "date_of_birth"], name="patient_practice_dob"),
            models.Index(fields=["clinic", "name_key", "id"], name="patient_clinic_name"),
            # Search by MRN is case-insensitive (`mrn__iexact` is UPPER(mrn) = UPPER(text)).
            # Search by name also has a trigram index on PostgreSQL (migration 0002).
            models.Index(Upper("mrn"), "practice", name="patient_mrn_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_key = name_key(self.last_name, self.first_name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class PatientChild(models.Model):
    """A row that belongs to one patient; tenancy follows the patient."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class WeightMeasurement(PatientChild):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="weights")
    measured_on = models.DateField()
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["-measured_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__gt=0) & Q(weight_kg__lte=500), name="weight_plausible"
            ),
        ]
        indexes = [models.Index(fields=["patient", "-measured_on"], name="weight_patient_date")]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on}"


class Condition(PatientChild):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    indication = models.CharField(max_length=40, choices=Indication.choices)
    icd10_code = models.CharField("ICD-10-CM", max_length=10)
    diagnosed_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-active", "indication", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "indication", "icd10_code"],
                condition=Q(active=True),
                name="condition_active_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_indication_display()} ({self.icd10_code})"


class PatientFlag(PatientChild):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="flags")
    flag = models.CharField(max_length=40, choices=Flag.choices)
    noted_on = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    resolved_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-active", "flag", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "flag"], condition=Q(active=True), name="flag_active_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_flag_display()

    @property
    def is_contraindication(self) -> bool:
        return self.flag in CONTRAINDICATION_FLAGS


class PriorTreatment(PatientChild):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="prior_treatments")
    drug = models.CharField(max_length=100)
    drug_class = models.CharField(max_length=30, choices=PreventiveClass.choices)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=PriorOutcome.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(stopped_on__gte=models.F("started_on")),
                name="prior_treatment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug} ({self.get_outcome_display()})"


class MrnFormat(models.Model):
    """The practice's medical record number format: a prefix and a zero-padded sequence
    (e.g. ``NS`` + 6 digits = ``NS000042``). A typed MRN must follow it; a blank one is the next
    number of the sequence. Without a row the practice keeps free-form MRNs."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="mrn_format")
    prefix = models.CharField(max_length=6, blank=True)
    digits = models.PositiveSmallIntegerField(default=6)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(digits__gte=4) & Q(digits__lte=10), name="mrn_format_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.example

    @property
    def example(self) -> str:
        return self.format(self.next_number)

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}"

    def matches(self, mrn: str) -> bool:
        import re

        return (
            re.fullmatch(re.escape(self.prefix) + "[0-9]{" + str(self.digits) + "}", mrn)
            is not None
        )


class PatientMerge(models.Model):
    """Two charts of the same person: the duplicate's rows moved to the surviving chart.

    ``moved`` names each moved row (``{"app.model.field": [ids]}``) so that a pending merge can be
    undone exactly; ``stayed`` names rows that could not move (the surviving chart already has the
    same active condition or a portal account). Signed sessions move too: their database guard lets
    a signed session change its patient, and nothing else, between the two charts of a pending
    merge (treatments migration 0015)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    duplicate = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=MergeStatus.choices, default=MergeStatus.PENDING
    )
    moved = models.JSONField(default=dict)
    stayed = models.JSONField(default=dict)
    duplicate_status = models.CharField(max_length=12, choices=PatientStatus.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["duplicate"],
                condition=Q(status__in=["pending", "confirmed"]),
                name="patient_merge_once",
            ),
            models.CheckConstraint(
                condition=~Q(survivor=F("duplicate")), name="patient_merge_two_charts"
            ),
        ]
        indexes = [models.Index(fields=["survivor", "status"], name="patient_merge_survivor")]

    def __str__(self) -> str:
        return f"Merge of chart {self.duplicate_id} into {self.survivor_id} ({self.status})"
