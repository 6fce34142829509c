"""Scheduling: appointment types, availability rules, appointments, waitlist, feeds, outbox.

Slots are never stored: they are computed from working hours, exceptions and the
appointments that hold time (see `availability.py`). Overlap is refused by the database:
an exclusion constraint on PostgreSQL and triggers on SQLite (migration 0002).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from bontrack.core.models import Clinic, Practice, TimeStamped
from bontrack.core.querysets import ClinicScopedQuerySet


class Kind(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    TREATMENT = "treatment", "Treatment session"
    FOLLOW_UP = "follow_up", "Follow-up"


class Modality(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"


class Room(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["clinic_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="room_name_unique_per_clinic")
        ]

    def __str__(self) -> str:
        return self.name


class AppointmentType(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointment_types")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    modality = models.CharField(max_length=12, choices=Modality.choices)
    duration_minutes = models.PositiveSmallIntegerField()
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    # Role values (accounts.roles.Role) of the staff who may deliver it.
    delivered_by = models.JSONField(default=list)
    self_bookable = models.BooleanField(default=False)
    free_of_charge = models.BooleanField(default=False)
    min_notice_minutes = models.PositiveIntegerField(default=0)
    horizon_days = models.PositiveSmallIntegerField(default=60)
    description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["clinic_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="appt_type_code_unique"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=480),
                name="appt_type_duration_range",
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="appt_type_kind_valid"),
            models.CheckConstraint(
                condition=Q(modality__in=Modality.values), name="appt_type_modality_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_video(self) -> bool:
        return self.modality == Modality.VIDEO

    @property
    def needs_room(self) -> bool:
        return self.modality == Modality.IN_PERSON


class SchedulingSettings(models.Model):
    """Per-clinic scheduling policy (practice choices, not clinical facts)."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="scheduling")
    slot_step_minutes = models.PositiveSmallIntegerField(default=15)
    # Reminder offsets before the start, in minutes (default: 3 days and 2 hours).
    reminder_offsets_minutes = models.JSONField(default=list)
    # Recall: start calling this many days before the target date; overdue this many days after.
    recall_lead_days = models.PositiveSmallIntegerField(default=21)
    overdue_grace_days = models.PositiveSmallIntegerField(default=7)
    # Readiness: the diary counts as up to date with an entry for each of the last N days.
    diary_days_required = models.PositiveSmallIntegerField(default=7)
    # Readiness: a child's weight counts as recent when measured within N days.
    child_weight_max_age_days = models.PositiveSmallIntegerField(default=30)
    # Readiness: treatment consent counts as current when recorded within N days.
    consent_valid_days = models.PositiveSmallIntegerField(default=365)
    # Waitlist offers expire after this many minutes.
    waitlist_offer_minutes = models.PositiveIntegerField(default=240)

    def __str__(self) -> str:
        return f"Scheduling settings of {self.clinic}"


DEFAULT_REMINDER_OFFSETS = [3 * 24 * 60, 2 * 60]


class WorkingHours(models.Model):
    """A weekly block: clinician works at this clinic on `weekday` from `start` to `end` (local)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="working_hours")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField()
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["clinician_id", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_valid"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="hours_ordered"),
        ]
        indexes = [models.Index(fields=["clinic", "clinician"], name="hours_clinic_clinician")]

    def __str__(self) -> str:
        return f"{self.clinician} weekday {self.weekday} {self.start}-{self.end}"


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", "Leave / unavailable"
    EXTRA = "extra", "Extra clinic hours"


class AvailabilityException(models.Model):
    """A one-off change: leave (blocks time) or an extra clinic (adds time). Stored in UTC."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    kind = models.CharField(max_length=10, choices=ExceptionKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="exception_ordered"
            ),
        ]
        indexes = [models.Index(fields=["clinician", "starts_at"], name="exception_clinician")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d}"


class Status(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold the clinician's, the room's and the patient's time (the constraints use them).
HOLDING = (Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED)


class Source(models.TextChoices):
    STAFF = "staff", "Staff"
    ONLINE = "online", "Online booking"
    API = "api", "API"
    WAITLIST = "waitlist", "Waitlist offer"


class CancelReason(models.TextChoices):
    PATIENT_REQUEST = "patient_request", "Patient request"
    PATIENT_ONLINE = "patient_online", "Cancelled online by the patient"
    CLINICIAN_UNAVAILABLE = "clinician_unavailable", "Clinician unavailable"
    ILLNESS = "illness", "Patient unwell"
    NOT_ELIGIBLE = "not_eligible", "Not eligible / not ready"
    DUPLICATE = "duplicate", "Duplicate booking"
    OTHER = "other", "Other"


class NoShowReason(models.TextChoices):
    UNKNOWN = "unknown", "No reason given"
    FORGOT = "forgot", "Forgot"
    TRANSPORT = "transport", "Transport problem"
    ILLNESS = "illness", "Unwell"
    OTHER = "other", "Other"


# The longest time one appointment may hold (appointment plus buffers).
MAX_BLOCK = timedelta(days=1)


class AppointmentQuerySet(ClinicScopedQuerySet):
    def holding(self) -> AppointmentQuerySet:
        return self.filter(status__in=HOLDING)

    def between(self, start: object, end: object) -> AppointmentQuerySet:
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class Appointment(TimeStamped):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT)
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT)
    indication = models.CharField(max_length=40, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The time the clinician and room are held: the appointment plus its buffers.
    block_start = models.DateTimeField()
    block_end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STAFF)
    reason = models.CharField(max_length=500, blank=True)
    cancel_reason = models.CharField(max_length=30, choices=CancelReason.choices, blank=True)
    no_show_reason = models.CharField(max_length=20, choices=NoShowReason.choices, blank=True)
    status_note = models.CharField(max_length=300, blank=True)
    # Incremented on every reschedule: iCalendar SEQUENCE, reminder and link keys.
    sequence = models.PositiveIntegerField(default=0)
    video_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    interval_override_reason = models.CharField(max_length=300, blank=True)
    interval_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_consent = models.BooleanField(default=False)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appt_ordered"
            ),
            models.CheckConstraint(
                condition=Q(block_start__lte=models.F("starts_at"))
                & Q(block_end__gte=models.F("ends_at")),
                name="appt_block_covers",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="appt_status_valid"),
            # Bounds the index range scans of the availability search (see availability.py).
            models.CheckConstraint(
                condition=Q(block_end__lte=models.F("block_start") + MAX_BLOCK),
                name="appt_block_at_most_one_day",
            ),
        ]
        indexes = [
            models.Index(fields=["clinician", "block_start"], name="appt_clinician_start"),
            models.Index(fields=["clinic", "starts_at"], name="appt_clinic_start"),
            models.Index(fields=["patient", "starts_at"], name="appt_patient_start"),
            models.Index(fields=["room", "block_start"], name="appt_room_start"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.starts_at:%Y-%m-%d %H:%M}Z"

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING

    @property
    def is_video(self) -> bool:
        return bool(self.video_token)


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked from an offer"
    CANCELLED = "cancelled", "Cancelled"


class WaitlistEntry(models.Model):
    """A patient who wants an earlier slot of a type, between two dates."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE)
    current_appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    earliest = models.DateField()
    latest = models.DateField()
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["clinic", "status"], name="waitlist_clinic_status")]

    def __str__(self) -> str:
        return f"Waitlist {self.patient_id} {self.earliest}..{self.latest}"


class WaitlistOffer(models.Model):
    """A freed slot offered to a waiting patient; the first to confirm books it."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Offer {self.starts_at:%Y-%m-%d %H:%M}Z"


class CalendarFeed(models.Model):
    """A clinician's iCalendar subscription; only the token's hash is stored. Revocable."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"feed {self.key_id}"


class ProgramPage(TimeStamped):
    """A public page in plain language for one condition a clinic treats."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="program_pages")
    indication = models.CharField(max_length=40)
    title = models.CharField(max_length=150)
    summary = models.CharField(max_length=400)
    body = models.TextField(
        help_text="Plain text; a blank line starts a new paragraph, '## ' a heading."
    )
    published = models.BooleanField(default=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["clinic_id", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "indication"], name="program_page_unique_per_clinic"
            )
        ]

    def __str__(self) -> str:
        return self.title


class PublicHit(models.Model):
    """One public write (booking, manage link) from an IP, for rate limiting."""

    ip = models.GenericIPAddressField()
    action = models.CharField(max_length=20)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ip", "action", "at"], name="public_hit_ip")]

    def __str__(self) -> str:
        return f"{self.action} from {self.ip}"


class MatchStatus(models.TextChoices):
    PENDING = "pending", "Awaiting a decision"
    CONFIRMED = "confirmed", "Same person: moved to the existing chart"
    REJECTED = "rejected", "Different person: kept as a new chart"


class PendingMatch(models.Model):
    """An online booking whose details match an existing chart.

    The booking never attaches to that chart on its own: it is made on a new prospective chart
    (`booked_patient`) and waits here until the front desk confirms (the appointments move to
    `matched_patient` and the new chart is removed) or rejects (the new chart stays).
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="pending_match"
    )
    booked_patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+"
    )
    # Which details matched: "name_and_birth_date", "email", "phone".
    matched_on = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=MatchStatus.choices, default=MatchStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "status", "created_at"], name="match_clinic_status")
        ]

    def __str__(self) -> str:
        return f"Match of booking {self.appointment_id} to patient {self.matched_patient_id}"


class ContactOutcome(models.TextChoices):
    CALLED = "called", "Called: spoke with the patient"
    LEFT_MESSAGE = "left_message", "Left a message"
    DECLINED = "declined", "Declined for now"


class RecallContact(models.Model):
    """One attempt to reach a patient on the recall list (so two people do not call the same
    patient). Append-only: a later attempt adds a row."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    indication = models.CharField(max_length=40)
    outcome = models.CharField(max_length=12, choices=ContactOutcome.choices)
    note = models.CharField(max_length=300, blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "patient", "-created_at"], name="recall_contact_patient")
        ]

    def __str__(self) -> str:
        return f"Recall contact {self.patient_id} {self.outcome}"
