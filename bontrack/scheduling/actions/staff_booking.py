"""Staff book any appointment type for a patient, once or as a series of treatment cycles.

The slot finder, the calendar, the chart, the recall list, the waitlist and "book the next
session" all end here. A series (the next two or four cycles at the program's 12-week steps,
same local time) is one transaction: every cycle is checked like a single booking (opening
hours, the clinician's and the room's time, the re-treatment interval) and one that does not
fit refuses the whole series with the cycle named. A treatment is refused while the patient
already has a future treatment booked for the same indication.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.models import Clinic
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts, links
from bontrack.scheduling.actions import booking
from bontrack.scheduling.availability import zone
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    Kind,
    Room,
    Source,
)

SERIES_CYCLES = (1, 2, 4)


def future_treatment(patient: Patient, indication: str) -> Appointment | None:
    """The patient's first booked future treatment for the indication (None when there is none)."""
    return booking.future_treatment(patient, indication)


def cycle_starts(*, clinic: Clinic, first: datetime, cycles: int, step_days: int) -> list[datetime]:
    """The start of each cycle: the same local wall-clock time, `step_days` apart."""
    tz = zone(clinic)
    local = first.astimezone(tz)
    return [
        datetime.combine(local.date() + timedelta(days=step_days * i), local.time(), tzinfo=tz)
        for i in range(cycles)
    ]


@transaction.atomic(durable=True)
def book_series(
    *,
    actor: User,
    clinic: Clinic,
    patient: Patient,
    appointment_type: AppointmentType,
    starts_at: datetime,
    cycles: int = 1,
    clinician: User | None = None,
    room: Room | None = None,
    reason: str = "",
    indication: str = "",
    override_reason: str = "",
    base_url: str = "",
) -> list[Appointment]:
    """Book one appointment, or `cycles` treatment cycles at 12-week steps: all or nothing."""
    _require(actor, Perm.SCHEDULE_BOOK, clinic.pk)
    if cycles not in SERIES_CYCLES:
        raise ValidationError({"cycles": ["Choose one, two or four cycles."]})
    is_treatment = appointment_type.kind == Kind.TREATMENT
    if cycles > 1 and not is_treatment:
        raise ValidationError({"cycles": ["Only treatment sessions are booked as a series."]})
    if patient.practice_id != clinic.practice_id:
        raise ValidationError({"patient_id": ["Choose a patient of this practice."]})
    indication = indication or booking._default_indication(patient)
    if is_treatment:
        booking.refuse_second_treatment(patient, indication)
    step = (
        facts.interval_for(
            indication,
            pediatric=facts.is_pediatric_on(patient.date_of_birth, starts_at.date()),
        ).target_days
        if is_treatment
        else 0
    )
    starts = cycle_starts(clinic=clinic, first=starts_at, cycles=cycles, step_days=step)
    base_url = base_url or links.public_base_url()
    booked: list[Appointment] = []
    for number, start in enumerate(starts, start=1):
        try:
            booked.append(
                booking._create(  # the one place rows are created
                    actor=actor,
                    clinic=clinic,
                    patient=patient,
                    appointment_type=appointment_type,
                    starts_at=start,
                    clinician_id=clinician.pk if clinician else None,
                    room_id=room.pk if room else None,
                    reason=reason,
                    source=Source.STAFF,
                    # The override covers the first cycle only; later ones are 12 weeks apart.
                    override_reason=override_reason if number == 1 else "",
                    indication=indication,
                    contact_consent=True,
                    apply_notice=False,
                    base_url=base_url,
                )
            )
        except (Conflict, ValidationError) as exc:
            if cycles == 1:
                raise
            text = str(exc) if isinstance(exc, Conflict) else " ".join(exc.messages)
            raise Conflict(
                f"Cycle {number} of {cycles} ({start:%A %d %B %Y at %H:%M}) does not fit: {text} "
                "Nothing was booked.",
                field="starts_at",
            ) from exc
    return booked
