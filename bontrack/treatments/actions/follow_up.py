"""After a session: the next due date, the adverse-effect check-in and recorded adverse effects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions.common import audit_record
from bontrack.treatments.actions.cycle_review import session_indications, store_suggestions
from bontrack.treatments.choices import (
    GIVEN_STATUSES,
    AdverseEffectKind,
    AdverseEffectStatus,
    Reporter,
    SessionStatus,
)
from bontrack.treatments.models import (
    AdverseEffect,
    CheckIn,
    TreatmentSession,
)

# PRACTICE POLICY, not a clinical number: the adverse-effect check-in window after a session, in
# days. clinical-facts.md has no sourced onset window; the practice asks about the boxed-warning
# effects (ptosis, neck pain or weakness, dysphagia: S27b) between 2 and 4 weeks. A candidate for
# a ProgramPolicy field once program policy sits below the apps (issue 9 item 2).
CHECKIN_OPENS_DAYS = 14
CHECKIN_CLOSES_DAYS = 28
CHECKIN_REMINDER_HOUR = 9  # PRACTICE POLICY: local clinic time of the check-in email

# ---- cycles and follow-up ---------------------------------------------------------------------


def next_due(session: TreatmentSession) -> date:
    local = timezone.localtime(session.performed_at, facts._zone(session.clinic.time_zone))
    days = max(
        facts.retreatment_interval_days(i) for i in (session.indications or [session.indication])
    )
    return local.date() + timedelta(days=days)


def checkin_window(session: TreatmentSession) -> tuple[date, date]:
    local = timezone.localtime(session.performed_at, facts._zone(session.clinic.time_zone)).date()
    return local + timedelta(days=CHECKIN_OPENS_DAYS), local + timedelta(days=CHECKIN_CLOSES_DAYS)


def checkin_reminder_at(session: TreatmentSession) -> datetime:
    """When the check-in email goes out: the morning the check-in window opens (clinic time)."""
    opens, _ = checkin_window(session)
    zone = facts._zone(session.clinic.time_zone)
    return datetime.combine(opens, time(CHECKIN_REMINDER_HOUR), tzinfo=zone)


def queue_checkin_reminder(session: TreatmentSession) -> Any:
    """Queue the portal check-in email in the caller's transaction (once per session).

    Nothing is queued when the patient has no email or the window has already closed (a session
    charted late); a window already open sends at once.
    """
    from django.conf import settings
    from django.urls import reverse

    from bontrack.core.messaging.outbox import enqueue_message

    patient = session.patient
    opens, closes = checkin_window(session)
    zone = facts._zone(session.clinic.time_zone)
    if not patient.email or timezone.localdate(timezone.now(), zone) > closes:
        return None
    url = settings.PUBLIC_BASE_URL + reverse("treatments:checkin", args=[session.pk])
    return enqueue_message(
        channel="email",
        to=patient.email,
        subject="How are you after your treatment?",
        body=(
            f"Hello {patient.preferred_name or patient.first_name},\n\n"
            "Please tell us how you have been since your botulinum toxin treatment: "
            "a drooping eyelid, neck pain or weakness, trouble swallowing or anything else. "
            f"The check-in is open from {opens:%A %d %B} to {closes:%A %d %B}:\n{url}\n\n"
            "If you have trouble swallowing, speaking or breathing, call for help at once: "
            "do not wait for the check-in.\n\n"
            f"{session.clinic.name}"
        ),
        dedupe_key=f"checkin:{session.pk}",
        send_after=max(checkin_reminder_at(session), timezone.now()),
        patient=patient,
        topic=f"checkin:{session.pk}",
    )


@transaction.atomic(durable=True)
def record_adverse_effect(
    *, actor: User, session: TreatmentSession, kind: str, detail: str = ""
) -> AdverseEffect:
    """Staff record an adverse effect reported in clinic or by phone."""
    locked = TreatmentSession.objects.select_related("patient").get(pk=session.pk)
    _require(actor, Perm.SESSION_CHART, locked.patient.clinic_id)
    if locked.status == SessionStatus.DRAFT:
        raise ValidationError({"session": ["Adverse effects follow a signed session."]})
    row = _new_effect(locked, kind, detail, Reporter.STAFF, actor)
    audit_record(
        actor,
        "create",
        row,
        locked.patient,
        f"Adverse effect {kind} after session {locked.pk}"
        + (" (urgent: same-day physician review)" if row.urgent else ""),
        {"kind": [None, kind], "detail": [None, detail], "urgent": [None, row.urgent]},
    )
    _notify_urgent([row], locked)
    store_suggestions(
        actor=actor,
        patient=locked.patient,
        indications=session_indications(locked),
        adverse_effect=True,
    )
    return row


def _new_effect(
    session: TreatmentSession,
    kind: str,
    detail: str,
    reporter: str,
    actor: User,
    at: datetime | None = None,
) -> AdverseEffect:
    if kind not in AdverseEffectKind.values:
        raise ValidationError({"kind": ["Choose an effect from the list."]})
    if kind == AdverseEffectKind.OTHER and not detail.strip():
        raise ValidationError({"detail": ["Describe the effect."]})
    mark_outcomes(session.patient_id)
    return AdverseEffect.objects.create(
        patient=session.patient,
        session=session,
        kind=kind,
        detail=detail.strip()[:2000],
        reported_at=at or timezone.now(),
        reported_by=reporter,
        reporter=actor,
        urgent=bool(facts.urgent_effect_kinds([kind])),
    )


def _notify_urgent(effects: list[AdverseEffect], session: TreatmentSession) -> None:
    """Queue one staff email per urgent report to the clinic's contact address (none without
    one), in the caller's transaction. No patient detail leaves in the email: it links to the
    urgent list, behind sign-in."""
    from django.conf import settings
    from django.urls import reverse

    from bontrack.core.messaging.outbox import enqueue_message

    clinic = session.clinic
    if not clinic.contact_email:
        return
    url = settings.PUBLIC_BASE_URL + reverse("treatments:urgent_effects")
    for effect in effects:
        if not effect.urgent:
            continue
        enqueue_message(
            channel="email",
            to=clinic.contact_email,
            subject="Urgent side-effect report: a physician review is needed today",
            body=(
                f"A {effect.get_reported_by_display().lower()} report of a symptom the botulinum "
                "toxin label warns about (distant spread of toxin effect) was recorded at "
                f"{clinic.name}. A physician should review it today:\n{url}\n"
            ),
            dedupe_key=f"urgent-effect:{effect.pk}",
            send_after=timezone.now(),
            topic=f"urgent-effect:{effect.pk}",
        )


def last_signed_session(patient: Patient) -> TreatmentSession | None:
    """The patient's latest signed session (what a side effect reported now follows)."""
    return (
        TreatmentSession.objects.filter(patient=patient, status__in=GIVEN_STATUSES)
        .select_related("clinic", "patient")
        .order_by("-performed_at", "-id")
        .first()
    )


@transaction.atomic(durable=True)
def report_side_effect(
    *,
    actor: User,
    patient: Patient,
    kinds: Iterable[str],
    other_detail: str = "",
    comment: str = "",
) -> list[AdverseEffect]:
    """The patient reports side effects from the portal at any time (not only in the check-in
    window): one row per effect, after their latest signed session. Urgent symptoms are flagged
    for a same-day physician review and the clinic is notified."""
    account = getattr(actor, "portal_account", None)
    if account is None or account.patient_id != patient.pk:
        raise PermissionDenied("Only the patient can report their side effects here.")
    kinds = sorted(set(kinds))
    if not kinds:
        raise ValidationError({"kinds": ["Tick what you have noticed."]})
    if any(k not in AdverseEffectKind.values for k in kinds):
        raise ValidationError({"kinds": ["Choose from the list."]})
    if AdverseEffectKind.OTHER in kinds and not other_detail.strip():
        raise ValidationError({"other_detail": ["Tell us what you noticed."]})
    session = last_signed_session(patient)
    if session is None:
        raise ValidationError(
            {"kinds": ["We have no treatment on file for you yet: please call your clinic."]}
        )
    comment = comment.strip()[:2000]
    now = timezone.now()  # one report: its rows share the time (the thanks page finds them)
    rows = []
    for kind in kinds:
        detail = other_detail if kind == AdverseEffectKind.OTHER else ""
        if comment:
            detail = f"{detail}\n{comment}".strip() if detail else comment
        rows.append(_new_effect(session, kind, detail, Reporter.PATIENT, actor, now))
    urgent = [r.kind for r in rows if r.urgent]
    audit_record(
        actor,
        "create",
        rows[0],
        patient,
        f"Side effects reported in the portal: {', '.join(kinds)}"
        + (" (urgent: same-day physician review)" if urgent else ""),
        {"kinds": [None, kinds], "urgent": [None, urgent], "session": [None, session.pk]},
    )
    _notify_urgent(rows, session)
    store_suggestions(
        actor=actor, patient=patient, indications=session_indications(session), adverse_effect=True
    )
    return rows


@transaction.atomic(durable=True)
def review_urgent_effect(*, actor: User, effect: AdverseEffect, note: str = "") -> AdverseEffect:
    """A physician records the same-day review of an urgent report."""
    locked = AdverseEffect.objects.select_for_update().select_related("patient").get(pk=effect.pk)
    _require(actor, Perm.ADVERSE_EFFECT_REVIEW, locked.patient.clinic_id)
    if not locked.urgent:
        raise ValidationError({"effect": ["This report is not flagged urgent."]})
    if locked.urgent_reviewed_at is not None:
        raise Conflict("This urgent report has already been reviewed.")
    note = note.strip()
    if len(note) > 1000:
        raise ValidationError({"note": ["At most 1000 characters."]})
    locked.urgent_reviewed_at = timezone.now()
    locked.urgent_reviewed_by = actor
    locked.urgent_review_note = note
    locked.save(update_fields=["urgent_reviewed_at", "urgent_reviewed_by", "urgent_review_note"])
    audit_record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Urgent adverse effect {locked.kind} reviewed by a physician",
        {"urgent_reviewed_at": [None, locked.urgent_reviewed_at.isoformat()], "note": [None, note]},
    )
    return locked


def open_checkins(patient: Patient, today: date) -> list[TreatmentSession]:
    """Signed sessions whose check-in window is open and not yet answered."""
    earliest = timezone.now() - timedelta(days=CHECKIN_CLOSES_DAYS + 1)
    sessions = (
        TreatmentSession.objects.filter(
            patient=patient,
            status__in=GIVEN_STATUSES,
            performed_at__gte=earliest,
            checkin__isnull=True,
        )
        .exclude(amends__checkin__isnull=False)
        .select_related("clinic")
        .order_by("performed_at")
    )
    out = []
    for s in sessions:
        opens, closes = checkin_window(s)
        if opens <= today <= closes:
            out.append(s)
    return out


@transaction.atomic(durable=True)
def submit_checkin(
    *,
    actor: User,
    patient: Patient,
    session: TreatmentSession,
    kinds: Iterable[str],
    other_detail: str = "",
    comment: str = "",
) -> CheckIn:
    """The patient's follow-up answers: one adverse effect row per problem reported."""
    account = getattr(actor, "portal_account", None)
    if account is None or account.patient_id != patient.pk or session.patient_id != patient.pk:
        raise PermissionDenied("Only the patient can answer their check-in.")
    if session.status not in GIVEN_STATUSES:
        raise ValidationError({"session": ["This session has no check-in."]})
    opens, closes = checkin_window(session)
    today = timezone.localdate(timezone.now(), facts._zone(session.clinic.time_zone))
    if not opens <= today <= closes:
        raise ValidationError(
            {"session": [f"The check-in is open from {opens:%b %d} to {closes:%b %d}."]}
        )
    if CheckIn.objects.filter(session=session).exists():
        raise Conflict("You already answered this check-in. Call the clinic to add something.")
    kinds = sorted(set(kinds))
    if any(k not in AdverseEffectKind.values for k in kinds):
        raise ValidationError({"kinds": ["Choose from the list."]})
    checkin = CheckIn.objects.create(
        session=session,
        patient=patient,
        submitted_at=timezone.now(),
        none_reported=not kinds,
        comment=comment.strip()[:2000],
    )
    rows = [
        _new_effect(
            session,
            kind,
            other_detail if kind == AdverseEffectKind.OTHER else "",
            Reporter.PATIENT,
            actor,
        )
        for kind in kinds
    ]
    urgent = [r.kind for r in rows if r.urgent]
    audit_record(
        actor,
        "create",
        checkin,
        patient,
        f"Check-in after session {session.pk}: {', '.join(kinds) or 'no problems'}"
        + (" (urgent: same-day physician review)" if urgent else ""),
        {"kinds": [None, kinds], "comment": [None, comment.strip()], "urgent": [None, urgent]},
    )
    _notify_urgent(rows, session)
    if rows:
        store_suggestions(
            actor=actor,
            patient=patient,
            indications=session_indications(session),
            adverse_effect=True,
        )
    return checkin


@transaction.atomic(durable=True)
def resolve_adverse_effect(
    *, actor: User, effect: AdverseEffect, resolution: str = ""
) -> AdverseEffect:
    locked = AdverseEffect.objects.select_for_update().select_related("patient").get(pk=effect.pk)
    _require(actor, Perm.SESSION_CHART, locked.patient.clinic_id)
    if locked.status != AdverseEffectStatus.OPEN:
        raise Conflict("This adverse effect is already resolved.")
    locked.status = AdverseEffectStatus.RESOLVED
    locked.resolved_at = timezone.now()
    locked.resolved_by = actor
    locked.resolution = resolution.strip()[:1000]
    locked.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    audit_record(
        actor,
        "update",
        locked,
        locked.patient,
        f"Resolved adverse effect {locked.kind}",
        {"status": ["open", "resolved"], "resolution": [None, locked.resolution]},
    )
    return locked
