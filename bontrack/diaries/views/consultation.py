"""The consultation note page (the patient's pre-visit answers and the clinician's note)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.htmx import render_page
from bontrack.diaries.actions import (
    consultation as consultation_actions,
)
from bontrack.diaries.forms import (
    ConsultationForm,
)
from bontrack.diaries.models import (
    ConsultationNote,
)
from bontrack.diaries.views.diary import patient_for
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors


@staff_view(Perm.DIARY_VIEW)
@require_http_methods(["GET", "POST"])
def consultation(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    note = consultation_actions.open_consultation(patient)
    can_edit = request.user.has_clinic_perm(Perm.CONSULTATION_EDIT, patient.clinic_id)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the physician writes the consultation note.")
        form = ConsultationForm(request.POST)
        if form.is_valid():
            try:
                consultation_actions.save_consultation(
                    actor=request.user,
                    patient=patient,
                    sign="sign" in request.POST,
                    **form.cleaned_data,
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect("diaries:consultation", pk=patient.pk)
    else:
        record_chart_view(actor=request.user, patient=patient, what="consultation note")
        initial = (
            {f: getattr(note, f) for f in consultation_actions.STAFF_NOTE_FIELDS} if note else {}
        )
        if note:
            # Pre-fill the physician's fields from the patient's answers the first time.
            for f in ("history", "symptoms", "previous_treatments", "goals"):
                if not initial.get(f):
                    initial[f] = getattr(note, f"patient_{f}")
        form = ConsultationForm(initial=initial)
    signed = list(
        ConsultationNote.objects.filter(patient=patient, signed_at__isnull=False).select_related(
            "author"
        )[:20]
    )
    context = {
        "patient": patient,
        "note": note,
        "form": form,
        "can_edit": can_edit,
        "signed": signed,
    }
    return render_page(
        request, "diaries/consultation.html", context, status=422 if form.errors else 200
    )
