"""What the patient receives (confirmation, reminders, changes), queued in the outbox.

Every function runs inside the service's transaction: messages exist only if the booking
change committed. Dedupe keys include the appointment's `sequence`, so a moved appointment
gets fresh reminders and the old ones are cancelled in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from bontrack.core.messaging.outbox import cancel_pending, enqueue_message
from bontrack.scheduling import ics, links
from bontrack.scheduling.availability import settings_for, zone
from bontrack.scheduling.models import DEFAULT_REMINDER_OFFSETS, Appointment


def topic(appointment: Appointment) -> str:
    return f"appointment:{appointment.pk}"


def local_time(appointment: Appointment) -> str:
    start = appointment.starts_at.astimezone(zone(appointment.clinic))
    return start.strftime("%A %d %B %Y at %H:%M (%Z)")


def where(appointment: Appointment) -> str:
    if appointment.video_token:
        # Never the room's raw address: the patient joins through the waiting room.
        return "Video call: join from your waiting room (the link is in your confirmation)"
    clinic = appointment.clinic
    return f"{clinic.name}, {clinic.address}".strip(", ")


def manage_url(appointment: Appointment, base_url: str) -> str:
    return f"{base_url}/book/manage/{links.manage_token(appointment.pk, appointment.sequence)}/"


def waiting_room_url(appointment: Appointment, base_url: str) -> str:
    return f"{base_url}/visit/{appointment.video_token}/"


def _details(appointment: Appointment, base_url: str) -> str:
    lines = [
        f"What: {appointment.appointment_type.name} ({appointment.appointment_type.duration_minutes} minutes)",
        f"When: {local_time(appointment)}",
        f"Where: {where(appointment)}",
    ]
    if appointment.video_token:
        lines.append(
            f"Waiting room (opens 10 minutes before the start): {waiting_room_url(appointment, base_url)}"
        )
        lines.append(
            f"Check your camera and microphone: {waiting_room_url(appointment, base_url)}check/"
        )
    return "\n".join(lines)


def preparation(appointment: Appointment, base_url: str) -> list[str]:
    """What to prepare before an online booking's visit (the confirmation page and e-mail)."""
    if appointment.source != "online":
        return []
    steps = [
        "Set a password for your patient portal with the invitation we e-mailed you.",
        f"Fill in the questionnaire before your visit in the portal: {base_url}/portal/diary/before-your-visit/",
    ]
    if appointment.indication == "chronic_migraine":
        steps.append(
            f"Start your headache diary today, one entry a day, in the portal: {base_url}/portal/diary/"
        )
    if not appointment.video_token:
        steps.append("Bring a photo ID, your insurance card and the list of your medicines.")
    return steps


def _ics(appointment: Appointment) -> tuple[str, bytes, str]:
    content = ics.appointment_ics(
        appointment,
        summary=f"{appointment.appointment_type.name} — {appointment.clinic.name}",
        description=where(appointment),
        location=where(appointment),
    )
    return ("appointment.ics", content, "text/calendar")


def _channels(appointment: Appointment) -> list[tuple[str, str]]:
    patient = appointment.patient
    out = []
    if patient.email:
        out.append(("email", patient.email))
    if patient.preferred_contact == "sms" and patient.phone:
        out.append(("sms", patient.phone))
    return out


def booking_confirmed(appointment: Appointment, *, base_url: str, moved: bool = False) -> None:
    now = timezone.now()
    verb = "moved" if moved else "booked"
    steps = preparation(appointment, base_url)
    prepare = (
        "Before your visit:\n" + "\n".join(f"- {step}" for step in steps) + "\n\n" if steps else ""
    )
    body = (
        f"Hello {appointment.patient.first_name},\n\n"
        f"Your appointment is {verb}.\n\n{_details(appointment, base_url)}\n\n{prepare}"
        f"To reschedule or cancel, use this personal link (do not share it):\n"
        f"{manage_url(appointment, base_url)}\n\n{appointment.clinic.name}\n"
        f"{appointment.clinic.phone}\n"
    )
    for channel, to in _channels(appointment):
        enqueue_message(
            channel=channel,
            to=to,
            subject=f"Your appointment is {verb}: {local_time(appointment)}",
            body=body
            if channel == "email"
            else f"{appointment.clinic.name}: appointment {verb} for {local_time(appointment)}.",
            dedupe_key=f"confirm:{appointment.pk}:{appointment.sequence}:{channel}",
            send_after=now,
            patient=appointment.patient,
            attachments=[_ics(appointment)] if channel == "email" else None,
            topic=f"{topic(appointment)}:notice",
        )
    schedule_reminders(appointment, base_url=base_url)


def schedule_reminders(appointment: Appointment, *, base_url: str) -> None:
    now = timezone.now()
    offsets = settings_for(appointment.clinic).reminder_offsets_minutes or DEFAULT_REMINDER_OFFSETS
    for minutes in offsets:
        send_at: datetime = appointment.starts_at - timedelta(minutes=int(minutes))
        if send_at <= now:
            continue
        for channel, to in _channels(appointment):
            enqueue_message(
                channel=channel,
                to=to,
                subject=f"Reminder: {appointment.appointment_type.name} on {local_time(appointment)}",
                body=(
                    f"Hello {appointment.patient.first_name},\n\nA reminder of your appointment.\n\n"
                    f"{_details(appointment, base_url)}\n\nNeed to change it? "
                    f"{manage_url(appointment, base_url)}\n"
                )
                if channel == "email"
                else f"Reminder: {appointment.clinic.name}, {local_time(appointment)}.",
                dedupe_key=f"reminder:{appointment.pk}:{appointment.sequence}:{minutes}:{channel}",
                send_after=send_at,
                patient=appointment.patient,
                topic=topic(appointment),
            )


def booking_cancelled(appointment: Appointment) -> None:
    cancel_pending(topic=topic(appointment))
    for channel, to in _channels(appointment):
        enqueue_message(
            channel=channel,
            to=to,
            subject=f"Cancelled: your appointment on {local_time(appointment)}",
            body=(
                f"Hello {appointment.patient.first_name},\n\nYour appointment on "
                f"{local_time(appointment)} is cancelled.\n\n{appointment.clinic.name}\n"
                f"{appointment.clinic.phone}\n"
            ),
            dedupe_key=f"cancel:{appointment.pk}:{channel}",
            send_after=timezone.now(),
            patient=appointment.patient,
            attachments=[_ics(appointment)] if channel == "email" else None,
        )


def booking_moved(appointment: Appointment, *, base_url: str) -> None:
    cancel_pending(topic=topic(appointment))
    booking_confirmed(appointment, base_url=base_url, moved=True)


def patient_channels(patient: object) -> list[tuple[str, str]]:
    """The patient's preferred channel first (SMS when preferred and a phone is on file), else
    e-mail; the other channel when the preferred one has no address."""
    email = getattr(patient, "email", "") or ""
    phone = getattr(patient, "phone", "") or ""
    if getattr(patient, "preferred_contact", "") == "sms" and phone:
        return [("sms", phone)]
    if email:
        return [("email", email)]
    return [("sms", phone)] if phone else []


def offer_topic(offer_id: int) -> str:
    return f"waitlist-offer:{offer_id}"


def waitlist_offer(*, patient: object, clinic: object, when: str, url: str, offer_id: int) -> None:
    """The offer of a freed slot, through the outbox on the patient's preferred channel (the
    waitlist page shows each message's delivery state by its topic)."""
    name = getattr(clinic, "name", "")
    for channel, to in patient_channels(patient):
        enqueue_message(
            channel=channel,
            to=to,
            subject=f"An earlier appointment is free: {when}",
            body=(
                f"Hello {getattr(patient, 'first_name', '')},\n\nAn earlier appointment at "
                f"{name} became free: {when}.\n\nThe first person to confirm "
                f"gets it. To take it, open:\n{url}\n"
            )
            if channel == "email"
            else f"{name}: an earlier appointment is free, {when}. First to confirm gets it: {url}",
            dedupe_key=f"offer:{offer_id}:{channel}",
            send_after=timezone.now(),
            patient=patient,
            topic=offer_topic(offer_id),
        )
