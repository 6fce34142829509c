"""The staff diary page (charts, periods, scores) and the transcription of a paper diary day."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.htmx import render_page
from bontrack.core.parsing import ParseError, parse_date
from bontrack.diaries import facts
from bontrack.diaries.actions import (
    actors,
    diary_days,
)
from bontrack.diaries.forms import (
    FEATURE_LABELS,
    AssignForm,
    DayForm,
    ImportForm,
    doses_from,
)
from bontrack.diaries.models import (
    DiaryDay,
    QuestionnaireResponse,
)
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors


def patient_for(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


def _parse_day(value: str) -> date:
    try:
        return parse_date(value)
    except ParseError as exc:
        raise Http404 from exc


def diary_context(patient: Patient, today: date) -> dict[str, Any]:
    """The diary page: clinic_rules ``diary-summary`` figures and the outcome charts built on them
    (``diaries.facts.outcome_charts``, shared with the PDF note)."""
    out = facts.outcome_charts(patient, today)
    summary = out["summary"]
    sessions: list[date] = out["sessions"]
    periods = [
        {
            **p,
            "sessions": [
                s
                for s in sessions
                if date.fromisoformat(p["start"]) <= s <= date.fromisoformat(p["end"])
            ],
        }
        for p in summary["periods"]
    ]
    questionnaires = list(
        QuestionnaireResponse.objects.filter(patient=patient).order_by("completed_at", "id")
    )
    scores = [
        {
            "date": timezone.localdate(q.completed_at),
            "instrument": q.instrument,
            "score": float(q.score) if q.score is not None else None,
            "valid": bool(q.valid),
            "entered_by_staff": q.entered_by_staff,
        }
        for q in questionnaires
        if q.completed_at is not None
    ]
    pending = sorted(
        (q for q in questionnaires if q.completed_at is None), key=lambda q: (q.due_date, q.pk)
    )
    return {
        "summary": summary,
        "baseline": out["baseline"],
        "periods": periods,
        "sessions": sessions,
        "scores": scores,
        "pending_questionnaires": pending,
        "charts": {k: out[k] for k in ("calendar", "periods", "cycles", "score_chart")},
        "recorded_days": out["recorded_days"],
        "recent": out["recent"],
        "moh": summary["medication_overuse"],
        "findings": summary["findings"],
    }


@staff_view(Perm.DIARY_VIEW)
def diary_page(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    record_chart_view(actor=request.user, patient=patient, what="headache diary")
    today = actors.local_today()
    context = {
        "patient": patient,
        "today": today,
        "can_edit": request.user.has_clinic_perm(Perm.DIARY_EDIT, patient.clinic_id),
        "import_form": ImportForm(),
        "assign_form": AssignForm(initial={"due_date": today}),
        **diary_context(patient, today),
    }
    return render_page(request, "diaries/diary.html", context)


@staff_view(Perm.DIARY_EDIT)
@require_http_methods(["GET", "POST"])
def transcribe_day(request: HttpRequest, pk: int, day: str, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    when = _parse_day(day)
    existing = (
        DiaryDay.objects.filter(patient=patient, date=when)
        .prefetch_related("medications")
        .select_related("entered_by")
        .first()
    )
    if request.method == "POST":
        form = DayForm(request.POST)
        doses: dict[str, int] = {}
        try:
            doses = doses_from(request.POST)
        except ParseError as exc:
            form.add_error(None, str(exc))
        if form.is_valid():
            try:
                diary_days.save_diary_day(
                    actor=request.user,
                    patient=patient,
                    data=form.to_input(when, doses),
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("diaries:diary", args=[patient.pk]) + "#recent")
    else:
        record_chart_view(actor=request.user, patient=patient, what=f"diary day {when}")
        form = DayForm(initial=DayForm.initial_from(existing))
    context = {
        "patient": patient,
        "day": when,
        "form": form,
        "existing": existing,
        "history": diary_days.day_history(existing) if existing else [],
        "features": FEATURE_LABELS,
    }
    return render_page(
        request, "diaries/transcribe.html", context, status=422 if form.errors else 200
    )
