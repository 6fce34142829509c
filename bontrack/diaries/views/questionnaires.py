"""Questionnaires entered by staff for a patient, and assigning them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.htmx import render_page
from bontrack.diaries.actions import (
    actors,
    questionnaires,
)
from bontrack.diaries.forms import (
    AssignForm,
    ImportForm,
    questionnaire_form,
)
from bontrack.diaries.models import (
    QuestionnaireResponse,
)
from bontrack.diaries.views.diary import diary_context, patient_for
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors


@staff_view(Perm.DIARY_EDIT)
@require_http_methods(["GET", "POST"])
def enter_questionnaire(request: HttpRequest, pk: int, qid: int, scope: Scope) -> HttpResponse:
    """Staff enter a pending MIDAS or HIT-6 for the patient (marked as entered by staff)."""
    patient = patient_for(scope, pk)
    response = get_object_or_404(QuestionnaireResponse, pk=qid, patient=patient)
    if response.completed_at is not None:
        return redirect(reverse("diaries:diary", args=[patient.pk]) + "#h-scores")
    form = questionnaire_form(response.instrument, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                questionnaires.submit_questionnaire(
                    actor=request.user, response=response, answers=form.cleaned_data
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("diaries:diary", args=[patient.pk]) + "#h-scores")
    else:
        record_chart_view(
            actor=request.user, patient=patient, what=f"{response.instrument} questionnaire"
        )
    context = {"patient": patient, "response": response, "form": form}
    return render_page(
        request, "diaries/questionnaire.html", context, status=422 if form.errors else 200
    )


@staff_view(Perm.DIARY_EDIT)
@require_POST
def assign_questionnaires(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """Assign MIDAS and HIT-6 due on a date (idempotent), e.g. to enter a paper form."""
    patient = patient_for(scope, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        from django.db import transaction

        with transaction.atomic(durable=True):
            questionnaires.assign_pre_treatment(
                patient, form.cleaned_data["due_date"], actor=request.user
            )
        return redirect(reverse("diaries:diary", args=[patient.pk]) + "#h-scores")
    today = actors.local_today()
    context = {
        "patient": patient,
        "today": today,
        "can_edit": True,
        "import_form": ImportForm(),
        "assign_form": form,
        **diary_context(patient, today),
    }
    return render_page(request, "diaries/diary.html", context, status=422)
