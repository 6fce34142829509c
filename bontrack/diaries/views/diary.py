"""The staff diary page (charts, periods, scores) and the transcription of a paper diary day."""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Sum
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
from bontrack.core.policy import facts as program_policy
from bontrack.diaries import charts, facts, hooks
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

HISTORY_DAYS = 3650  # the staff page shows up to ten years (clinic_rules accepts 3700 days)


def patient_for(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


def _parse_day(value: str) -> date:
    try:
        return parse_date(value)
    except ParseError as exc:
        raise Http404 from exc


SUMMARY_CACHE_SECONDS = 600


def diary_summary_cached(patient: Patient, today: date) -> dict[str, Any]:
    """clinic_rules ``diary-summary`` of the staff page and the few facts it needs of the days.

    Building the input (1,000+ days) and running the rule is most of the page's cost, so the
    result is cached under a fingerprint of the diary (row count, the sum of the days'
    versions, newest id and change time: every save, import or edit bumps one of them),
    the practice policy and the day. One query decides a hit."""
    start = today - timedelta(days=HISTORY_DAYS)
    policy = program_policy.policy_document(patient.practice_id)
    fp = DiaryDay.objects.filter(patient=patient, date__gte=start, date__lte=today).aggregate(
        n=Count("id"), v=Sum("version"), m=Max("id"), u=Max("updated_at")
    )
    digest = hashlib.sha256(
        json.dumps([fp, policy], sort_keys=True, default=str).encode()
    ).hexdigest()[:32]
    key = f"diaries:summary:{patient.pk}:{today.isoformat()}:{digest}"
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    docs = facts.diary_documents(patient, start, today)
    doc: dict[str, object] = {
        "as_of": today.isoformat(),
        "days": docs,
        "period_days": facts.period_days(),
    }
    if policy:
        doc["policy"] = policy
    value = {
        "summary": facts.run_diary_summary(doc),
        "med_dates": sorted(
            date.fromisoformat(str(d["date"])) for d in docs if d["acute_medications"]
        ),
        "first": date.fromisoformat(str(docs[0]["date"])) if docs else None,
        "recorded_days": len(docs),
        "recent": docs[-14:][::-1],
    }
    cache.set(key, value, SUMMARY_CACHE_SECONDS)
    return value


def diary_context(patient: Patient, today: date) -> dict[str, Any]:
    data = diary_summary_cached(patient, today)
    summary = data["summary"]
    classes = {date.fromisoformat(d["date"]): d["class"] for d in summary["days"]}
    med_dates: list[date] = data["med_dates"]
    sessions = hooks.session_dates(patient)
    periods = []
    for p in summary["periods"]:
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
        periods.append(
            {
                **p,
                "medication_days": bisect_right(med_dates, end) - bisect_left(med_dates, start),
                "sessions": [s for s in sessions if start <= s <= end],
            }
        )
    first = data["first"] or today - timedelta(days=summary["period_days"] - 1)
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
    heat = charts.heat_map(classes, first, today)
    months: dict[str, dict[str, int]] = {}
    for cell in heat.cells:
        key = f"{cell.day.year}-{cell.day.month:02d}"
        months.setdefault(key, dict.fromkeys(charts.CLASS_LABELS, 0))[cell.cls] += 1
    return {
        "summary": summary,
        "periods": periods,
        "heat": heat,
        "month_table": sorted(months.items()),
        "bars": charts.bar_chart(periods, sessions, summary["period_days"]),
        "sessions": sessions,
        "scores": scores,
        "pending_questionnaires": pending,
        "score_chart": charts.score_chart(scores),
        "class_labels": charts.CLASS_LABELS,
        "recorded_days": data["recorded_days"],
        "recent": data["recent"],
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
