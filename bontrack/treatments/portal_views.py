"""Patient portal: the follow-up check-in for adverse effects after a session."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from bontrack.accounts.access import patient_view
from bontrack.core.errors import Conflict
from bontrack.core.forms import apply_service_errors
from bontrack.patients.models import Patient
from bontrack.treatments.actions import common, follow_up
from bontrack.treatments.forms import CheckInForm
from bontrack.treatments.models import TreatmentSession


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
    form = CheckInForm(request.POST or None)
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
    return render(request, "treatments/portal_checkin_done.html", {"patient": patient})
