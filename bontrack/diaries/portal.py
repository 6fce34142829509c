"""Patient portal pages: the headache diary, questionnaires and pre-visit questions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import patient_view
from bontrack.accounts.requests import PortalRequest
from bontrack.core.forms import apply_service_errors
from bontrack.core.parsing import ParseError, parse_date, parse_decimal, query_date
from bontrack.diaries import charts
from bontrack.diaries.actions import actors, consultation, diary_days, questionnaires
from bontrack.diaries.forms import (
    COMMON_MEDICINES,
    FEATURE_LABELS,
    DayForm,
    PreVisitForm,
    doses_from,
    questionnaire_form,
)
from bontrack.diaries.models import DiaryDay, QuestionnaireResponse
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict, record_chart_view


def _day(value: str) -> date:
    try:
        return parse_date(value)
    except ParseError as exc:
        raise Http404 from exc


def _strip(patient: Patient, today: date) -> list[dict[str, object]]:
    start = today - timedelta(days=diary_days.BACKFILL_DAYS)
    rows = DiaryDay.objects.filter(patient=patient, date__gte=start, date__lte=today).values_list(
        "date", "headache", "severity", "hours"
    )
    recorded, details = {}, {}
    for d, h, severity, hours in rows:
        recorded[d] = "headache" if h else "free"
        details[d] = (severity, hours)
    strip = charts.week_strip(recorded, today, diary_days.BACKFILL_DAYS + 1)
    for s in strip:
        s["severity"], s["hours"] = details.get(s["date"], (0, None))  # type: ignore[index]
    return strip


@patient_view
def diary_home(request: PortalRequest, patient: Patient) -> HttpResponse:
    record_chart_view(actor=request.user, patient=patient, what="own headache diary")
    questionnaires.assign_baseline(patient, actor=request.user)
    today = actors.local_today()
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
        "has_program": questionnaires.has_active_program(patient),
    }
    return render(request, "diaries/portal/home.html", context)


@patient_view
@require_http_methods(["GET", "POST"])
def diary_day(request: PortalRequest, day: str, patient: Patient) -> HttpResponse:
    when = _day(day)
    today = actors.local_today()
    existing = (
        DiaryDay.objects.filter(patient=patient, date=when).prefetch_related("medications").first()
    )
    status = 200
    if request.method == "POST":
        form = DayForm(request.POST)
        try:
            doses = doses_from(request.POST)
        except ParseError as exc:
            form.add_error(None, str(exc))
        if form.is_valid():
            try:
                diary_days.save_diary_day(
                    actor=request.user, patient=patient, data=form.to_input(when, doses)
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("diaries:portal_home") + f"?saved={when.isoformat()}")
        status = 422
    else:
        if when > today or when < today - timedelta(days=diary_days.BACKFILL_DAYS):
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
        "too_old": when < today - timedelta(days=diary_days.BACKFILL_DAYS),
        "future": when > today,
        "prev_day": when - timedelta(days=1),
        "next_day": when + timedelta(days=1) if when < today else None,
    }
    return render(request, "diaries/portal/day.html", context, status=status)


@patient_view
@require_http_methods(["GET", "POST"])
def questionnaire(request: PortalRequest, qid: int, patient: Patient) -> HttpResponse:
    response = get_object_or_404(QuestionnaireResponse, pk=qid, patient=patient)
    if response.completed_at is not None:
        return render(request, "diaries/portal/questionnaire_done.html", {"response": response})
    form = questionnaire_form(response.instrument, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            questionnaires.submit_questionnaire(
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
def pre_visit(request: PortalRequest, patient: Patient) -> HttpResponse:
    # The pre-visit questions go to the consultation of the patient's (first) condition.
    indication = consultation.primary_indication(patient)
    note = consultation.open_consultation(patient, indication)
    saved = False
    if request.method == "POST":
        form = PreVisitForm(request.POST)
        if form.is_valid():
            try:
                consultation.save_pre_visit(
                    actor=request.user, patient=patient, indication=indication, **form.cleaned_data
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                saved = True
    else:
        initial = {f: getattr(note, f) for f in consultation.PATIENT_NOTE_FIELDS} if note else {}
        form = PreVisitForm(initial=initial)
    return render(
        request,
        "diaries/portal/pre_visit.html",
        {"form": form, "saved": saved},
        status=422 if form.errors else 200,
    )


WEEK_DAYS = 7


def _week_rows(
    request: PortalRequest, days: list[date], recorded: dict[date, Any]
) -> list[dict[str, Any]]:
    rows = []
    for d in days:
        key = f"d{d.isoformat()}"
        rows.append(
            {
                "date": d,
                "key": key,
                "existing": recorded.get(d),
                "state": request.POST.get(f"{key}-state", ""),
                "hours": request.POST.get(f"{key}-hours", ""),
                "severity": request.POST.get(f"{key}-severity", ""),
                "errors": [],
            }
        )
    return rows


@patient_view
@require_http_methods(["GET", "POST"])
def diary_week(request: PortalRequest, patient: Patient) -> HttpResponse:
    """Fill several missed days at once: one line per day of a week (back-fill rule kept).

    A line is "No headache" (one tap) or "Headache" with hours and worst pain; symptoms and
    medicines of a headache day are added on the day's own page."""
    today = actors.local_today()
    earliest = today - timedelta(days=diary_days.BACKFILL_DAYS)
    try:
        first = query_date(request, "start")
    except ParseError as exc:
        raise Http404 from exc
    # A week from ``start`` (default: the week ending today), inside the back-fill window.
    first = first or today - timedelta(days=WEEK_DAYS - 1)
    start = min(max(first, earliest), today - timedelta(days=WEEK_DAYS - 1))
    start = max(start, earliest)
    end = min(start + timedelta(days=WEEK_DAYS - 1), today)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    recorded = {
        r["date"]: r
        for r in DiaryDay.objects.filter(patient=patient, date__gte=start, date__lte=end).values(
            "date", "headache", "severity", "hours"
        )
    }
    rows = _week_rows(request, days, recorded)
    status = 200
    if request.method == "POST":
        inputs, owners = [], []
        for row in rows:
            if row["existing"] or row["state"] not in ("yes", "no"):
                continue
            headache = row["state"] == "yes"
            hours: Decimal | None = None
            severity = 0
            if headache:
                try:
                    hours = (
                        parse_decimal(
                            row["hours"],
                            min_value=0,
                            max_value=24,
                            whole_digits=2,
                            decimal_places=1,
                        )
                        if row["hours"].strip()
                        else None
                    )
                except ParseError:
                    row["errors"].append("Hours: a number from 0 to 24.")
                    continue
                severity = int(row["severity"]) if row["severity"] in ("1", "2", "3") else 0
            inputs.append(
                diary_days.DayInput(
                    date=row["date"], headache=headache, hours=hours, severity=severity
                )
            )
            owners.append(row)
        if not any(r["errors"] for r in rows) and inputs:
            try:
                diary_days.upsert_diary_days(actor=request.user, patient=patient, days=inputs)
            except (ValidationError, Conflict) as exc:
                messages = (
                    exc.message_dict
                    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict")
                    else {"": [str(exc)]}
                )
                for key, errs in messages.items():
                    parts = key.split(".")
                    i = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
                    target = owners[i] if i is not None and i < len(owners) else rows[0]
                    label = parts[-1].replace("_", " ").capitalize() if parts[-1] else ""
                    target["errors"].extend(f"{label}: {e}" if label else e for e in errs)
            else:
                saved = ", ".join(r["date"].strftime("%a %-d %b") for r in owners)
                return redirect(reverse("diaries:portal_home") + f"?saved={saved}")
        elif not inputs:
            rows[0]["errors"].append("Choose No headache or Headache for at least one day.")
        status = 422
    context = {
        "patient": patient,
        "today": today,
        "rows": rows[::-1],
        "start": start,
        "end": end,
        "prev_start": max(start - timedelta(days=WEEK_DAYS), earliest)
        if start > earliest
        else None,
        "next_start": end + timedelta(days=1) if end < today else None,
        "severities": [("1", "Mild"), ("2", "Moderate"), ("3", "Severe")],
    }
    return render(request, "diaries/portal/week.html", context, status=status)
