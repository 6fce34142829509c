"""Patient portal: the follow-up check-in after a session, and side effects reported at any time."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bontrack.accounts.access import patient_view
from bontrack.accounts.requests import PortalRequest
from bontrack.core.errors import Conflict
from bontrack.core.forms import apply_service_errors
from bontrack.patients.models import Patient
from bontrack.treatments.actions import common, follow_up
from bontrack.treatments.forms import CheckInForm, SideEffectReportForm
from bontrack.treatments.models import AdverseEffect, TreatmentSession


@patient_view
def checkin_list(request: HttpRequest, patient: Patient) -> HttpResponse:
    common.record_view(actor=request.user, patient=patient, what="own check-ins")
    due = follow_up.open_checkins(patient, timezone.localdate())
    return render(request, "treatments/portal_checkins.html", {"patient": patient, "due": due})


@patient_view
def checkin_form(request: HttpRequest, sid: int, patient: Patient) -> HttpResponse:
    session = (
        TreatmentSession.objects.current()
        .filter(patient=patient, pk=sid)
        .select_related("clinic")
        .first()
    )
    if session is None:
        raise Http404
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            follow_up.submit_checkin(
                actor=request.user, patient=patient, session=session, **form.cleaned_data
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("treatments:checkin_done", sid=session.pk)
    elif request.method == "GET":
        common.record_view(actor=request.user, patient=patient, what=f"check-in {sid}")
    opens, closes = follow_up.checkin_window(session)
    return render(
        request,
        "treatments/portal_checkin.html",
        {"patient": patient, "session": session, "form": form, "opens": opens, "closes": closes},
        status=422 if form.errors else 200,
    )


@patient_view
def checkin_done(request: HttpRequest, sid: int, patient: Patient) -> HttpResponse:
    if not TreatmentSession.objects.filter(patient=patient, pk=sid).exists():
        raise Http404
    urgent = AdverseEffect.objects.filter(
        patient=patient, session_id=sid, reported_by="patient", urgent=True
    )
    return render(
        request, "treatments/portal_checkin_done.html", _urgent_context(patient, list(urgent))
    )


def _urgent_context(patient: Patient, urgent: list[AdverseEffect]) -> dict[str, object]:
    return {
        "patient": patient,
        "clinic": patient.clinic,
        "urgent_labels": [e.get_kind_display() for e in urgent],
    }


@require_http_methods(["GET", "POST"])
@patient_view
def report_form(request: PortalRequest, patient: Patient) -> HttpResponse:
    """Report a side effect at any time; urgent symptoms answer with urgent advice at once."""
    session = follow_up.last_signed_session(patient)
    form = SideEffectReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = follow_up.report_side_effect(
                actor=request.user, patient=patient, **form.cleaned_data
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("treatments:report_done", eid=rows[0].pk)
    elif request.method == "GET":
        common.record_view(actor=request.user, patient=patient, what="side-effect report form")
    return render(
        request,
        "treatments/portal_report.html",
        {"patient": patient, "clinic": patient.clinic, "session": session, "form": form},
        status=422 if form.errors else 200,
    )


@require_GET
@patient_view
def report_done(request: PortalRequest, eid: int, patient: Patient) -> HttpResponse:
    """Thanks, with the urgent advice when the report holds an urgent symptom."""
    first = AdverseEffect.objects.filter(patient=patient, pk=eid, reported_by="patient").first()
    if first is None:
        raise Http404
    urgent = AdverseEffect.objects.filter(
        patient=patient,
        reported_by="patient",
        urgent=True,
        session_id=first.session_id,
        reported_at=first.reported_at,
    )
    return render(
        request, "treatments/portal_report_done.html", _urgent_context(patient, list(urgent))
    )
