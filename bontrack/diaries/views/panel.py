"""The diary and eligibility panel on the patient chart, and the physician's eligibility decision."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.htmx import render_page
from bontrack.core.policy import facts as program_policy
from bontrack.diaries import facts, hooks
from bontrack.diaries.actions import (
    actors,
    questionnaires,
)
from bontrack.diaries.actions import (
    consultation as consultation_actions,
)
from bontrack.diaries.forms import (
    DecisionForm,
)
from bontrack.diaries.models import (
    ConsultationNote,
    EligibilityAssessment,
    QuestionnaireResponse,
)
from bontrack.diaries.views.diary import patient_for
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors


def _eligibility(patient: Patient, today: date) -> dict[str, Any]:
    result, doc = facts.run_eligibility(patient, today)
    return {"result": result, "policy": program_policy.effective_policy(patient.practice_id)}


@staff_view(Perm.PATIENT_VIEW)
def panel(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """The chart's lazily loaded panel; roles without diary access get an empty slot."""
    patient = patient_for(scope, pk)
    if not request.user.has_clinic_perm(Perm.DIARY_VIEW, patient.clinic_id):
        return HttpResponse('<div id="diary-panel" hidden></div>')
    record_chart_view(actor=request.user, patient=patient, what="diary panel")
    return render_page(request, "diaries/panel.html", panel_context(request, patient))


def panel_context(request: HttpRequest, patient: Patient, **extra: Any) -> dict[str, Any]:
    today = actors.local_today()
    has_program = questionnaires.has_active_program(patient)
    context: dict[str, Any] = {
        "patient": patient,
        "today": today,
        "has_program": has_program,
        "last_decision": EligibilityAssessment.objects.filter(patient=patient)
        .select_related("decided_by")
        .first(),
        "pending": list(
            QuestionnaireResponse.objects.filter(patient=patient, completed_at__isnull=True)
        ),
        "consultation": ConsultationNote.objects.filter(patient=patient).first(),
        "consultations": consultation_summary(patient),
        "can_decide": request.user.has_clinic_perm(Perm.ELIGIBILITY_DECIDE, patient.clinic_id),
        "decision_form": extra.get("decision_form") or DecisionForm(),
    }
    # After the first signed chronic migraine session the panel shows where the patient is
    # (continuation), not the initiation criteria a treated, improved patient no longer meets.
    context["continuation"] = (
        hooks.continuation(patient, "chronic_migraine", today) if has_program else None
    )
    if has_program and context["continuation"] is None:
        context["eligibility"] = _eligibility(patient, today)
        # The label's headache-day duration (BTX-ELIG-HEADACHE-4H), shown next to the policy flag.
        context["headache_day_min_hours"] = facts.headache_day_min_hours()
    return context


def consultation_summary(patient: Patient) -> list[dict[str, Any]]:
    """One row per indication the patient has a condition or a consultation for (two queries):
    its label, whether a draft is open, the last signed visit and its decision."""
    from bontrack.patients.models import Condition

    wanted = set(
        Condition.objects.filter(patient=patient, active=True).values_list("indication", flat=True)
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in ConsultationNote.objects.filter(patient=patient).values(
        "indication", "signed_at", "visit_date", "decision"
    ):
        wanted.add(row["indication"])
        entry = latest.setdefault(row["indication"], {"draft": False, "signed": None})
        if row["signed_at"] is None:
            entry["draft"] = True
        elif entry["signed"] is None or row["signed_at"] > entry["signed"]["signed_at"]:
            entry["signed"] = row
    return [
        {"code": code, "label": label, **latest.get(code, {"draft": False, "signed": None})}
        for code, label in facts.indication_choices()
        if code in wanted
    ]


@staff_view(Perm.ELIGIBILITY_DECIDE)
@require_POST
def decide(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    htmx = request.htmx
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            consultation_actions.record_eligibility_decision(
                actor=request.user,
                patient=patient,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            if htmx:
                return render_page(request, "diaries/panel.html", panel_context(request, patient))
            return redirect("patients:chart", pk=patient.pk)
    # HTMX swaps the panel; a whole-page POST gets the panel inside the layout.
    return render_page(
        request,
        "diaries/panel.html" if htmx else "diaries/panel_page.html",
        panel_context(request, patient, decision_form=form),
        status=422,
    )
