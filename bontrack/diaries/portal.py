"""Patient portal pages: the headache diary, questionnaires and pre-visit questions."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import patient_view
from bontrack.diaries import charts, services
from bontrack.diaries.forms import (
    COMMON_MEDICINES,
    FEATURE_LABELS,
    DayForm,
    PreVisitForm,
    questionnaire_form,
)
from bontrack.diaries.models import DiaryDay, QuestionnaireResponse
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Http404 from exc


def _strip(patient: Patient, today: date) -> list[dict[str, object]]:
    start = today - timedelta(days=services.BACKFILL_DAYS)
    recorded = {
        d: ("headache" if h else "free")
        for d, h in DiaryDay.objects.filter(
            patient=patient, date__gte=start, date__lte=today
        ).values_list("date", "headache")
    }
    return charts.week_strip(recorded, today, services.BACKFILL_DAYS + 1)


@patient_view
def diary_home(request: HttpRequest, patient: Patient) -> HttpResponse:
    record_chart_view(actor=request.user, patient=patient, what="own headache diary")
    services.assign_baseline(patient, actor=request.user)
    today = services.local_today()
    strip = _strip(patient, today)
    context = {
        "patient": patient,
        "today": today,
        "strip": strip,
        "week": strip[-7:],
        "missing": [s for s in strip if s["state"] == "missing"],
        "today_done": strip[-1]["state"] != "missing",
        "pending": list(
            QuestionnaireResponse.objects.filter(patient=patient, completed_at__isnull=True)
        ),
        "has_program": services.has_active_program(patient),
    }
    return render(request, "diaries/portal/home.html", context)


@patient_view
@require_http_methods(["GET", "POST"])
def diary_day(request: HttpRequest, day: str, patient: Patient) -> HttpResponse:
    when = _day(day)
    today = services.local_today()
    existing = (
        DiaryDay.objects.filter(patient=patient, date=when).prefetch_related("medications").first()
    )
    status = 200
    if request.method == "POST":
        form = DayForm(request.POST)
        if form.is_valid():
            doses = {
                k.removeprefix("doses_"): int(v)
                for k, v in request.POST.items()
                if k.startswith("doses_") and v.strip().isdigit()
            }
            try:
                services.save_diary_day(
                    actor=request.user, patient=patient, data=form.to_input(when, doses)
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("diaries:portal_home") + f"?saved={when.isoformat()}")
        status = 422
    else:
        if when > today or when < today - timedelta(days=services.BACKFILL_DAYS):
            status = 422
        form = DayForm(initial=DayForm.initial_from(existing) or {"headache": None})
    context = {
        "patient": patient,
        "day": when,
        "today": today,
        "form": form,
        "existing": existing,
        "features": [(k, form[k]) for k, _ in FEATURE_LABELS],
        "common": COMMON_MEDICINES,
        "too_old": when < today - timedelta(days=services.BACKFILL_DAYS),
        "future": when > today,
        "prev_day": when - timedelta(days=1),
        "next_day": when + timedelta(days=1) if when < today else None,
    }
    return render(request, "diaries/portal/day.html", context, status=status)


@patient_view
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, qid: int, patient: Patient) -> HttpResponse:
    response = get_object_or_404(QuestionnaireResponse, pk=qid, patient=patient)
    if response.completed_at is not None:
        return render(request, "diaries/portal/questionnaire_done.html", {"response": response})
    form = questionnaire_form(response.instrument, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_questionnaire(
                actor=request.user, response=response, answers=form.cleaned_data
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("diaries:portal_questionnaire", qid=response.pk)
    return render(
        request,
        "diaries/portal/questionnaire.html",
        {"response": response, "form": form},
        status=422 if form.errors else 200,
    )


@patient_view
@require_http_methods(["GET", "POST"])
def pre_visit(request: HttpRequest, patient: Patient) -> HttpResponse:
    note = services.open_consultation(patient)
    saved = False
    if request.method == "POST":
        form = PreVisitForm(request.POST)
        if form.is_valid():
            try:
                services.save_pre_visit(actor=request.user, patient=patient, **form.cleaned_data)
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                saved = True
    else:
        initial = {f: getattr(note, f) for f in services.PATIENT_NOTE_FIELDS} if note else {}
        form = PreVisitForm(initial=initial)
    return render(
        request,
        "diaries/portal/pre_visit.html",
        {"form": form, "saved": saved},
        status=422 if form.errors else 200,
    )
