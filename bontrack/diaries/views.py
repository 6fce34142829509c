"""Staff diary views (chart panel, diary page, transcription, CSV, consultation, eligibility)."""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Sum
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.htmx import render_page
from bontrack.core.parsing import ParseError, parse_date
from bontrack.diaries import charts, csvio, facts, services
from bontrack.diaries import policy as policy_knobs
from bontrack.diaries.forms import (
    FEATURE_LABELS,
    AssignForm,
    ConsultationForm,
    DayForm,
    DecisionForm,
    ImportForm,
    PolicyForm,
    doses_from,
    questionnaire_form,
)
from bontrack.diaries.models import (
    ConsultationNote,
    DiaryDay,
    DiaryImport,
    EligibilityAssessment,
    ProgramPolicy,
    QuestionnaireResponse,
)
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict, record_chart_view
from bontrack.patients.views import apply_service_errors
from clinic_rules import contract
from clinic_rules.data import rule

HISTORY_DAYS = 3650  # the staff page shows up to ten years (clinic_rules accepts 3700 days)
PERIOD_DAYS = 28


def patient_for(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


def _parse_day(value: str) -> date:
    try:
        return parse_date(value)
    except ParseError as exc:
        raise Http404 from exc


def session_dates(patient: Patient) -> list[date]:
    """Signed treatment sessions' local dates (from the treatments app when it is installed)."""
    try:
        from bontrack.treatments.models import TreatmentSession
    except ImportError:  # pragma: no cover - the treatments app is optional for this view
        return []
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    try:
        rows = TreatmentSession.objects.filter(
            patient=patient, signed_at__isnull=False
        ).values_list("performed_at", flat=True)
        return sorted({timezone.localtime(p, tz).date() for p in rows if p is not None})
    except Exception:  # noqa: BLE001 - a schema the treatments app changed: no markers, no 500
        return []


SUMMARY_CACHE_SECONDS = 600


def diary_summary_cached(patient: Patient, today: date) -> dict[str, Any]:
    """clinic_rules ``diary-summary`` of the staff page and the few facts it needs of the days.

    Building the input (1,000+ days) and running the rule is most of the page's cost, so the
    result is cached under a fingerprint of the diary (row count, the sum of the days'
    versions, newest id and change time: every save, import or edit bumps one of them),
    the practice policy and the day. One query decides a hit."""
    start = today - timedelta(days=HISTORY_DAYS)
    policy = facts.policy_document(patient.practice_id)
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
    doc: dict[str, object] = {"as_of": today.isoformat(), "days": docs, "period_days": PERIOD_DAYS}
    if policy:
        doc["policy"] = policy
    value = {
        "summary": contract.run("diary-summary", doc),
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
    sessions = session_dates(patient)
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
    first = data["first"] or today - timedelta(days=27)
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
        "bars": charts.bar_chart(periods, sessions),
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
def diary_page(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    record_chart_view(actor=request.user, patient=patient, what="headache diary")
    today = services.local_today()
    context = {
        "patient": patient,
        "today": today,
        "can_edit": request.user.has_clinic_perm(Perm.DIARY_EDIT, patient.clinic_id),
        "import_form": ImportForm(),
        "assign_form": AssignForm(initial={"due_date": today}),
        **diary_context(patient, today),
    }
    return render_page(request, "diaries/diary.html", context)


def _eligibility(patient: Patient, today: date) -> dict[str, Any]:
    result, doc = facts.run_eligibility(patient, today)
    return {"result": result, "policy": facts.effective_policy(patient.practice_id)}


@staff_view(Perm.PATIENT_VIEW)
def panel(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """The chart's lazily loaded panel; roles without diary access get an empty slot."""
    patient = patient_for(scope, pk)
    if not request.user.has_clinic_perm(Perm.DIARY_VIEW, patient.clinic_id):
        return HttpResponse('<div id="diary-panel" hidden></div>')
    record_chart_view(actor=request.user, patient=patient, what="diary panel")
    return render_page(request, "diaries/panel.html", panel_context(request, patient))


def panel_context(request: HttpRequest, patient: Patient, **extra: Any) -> dict[str, Any]:
    today = services.local_today()
    has_program = services.has_active_program(patient)
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
        "can_decide": request.user.has_clinic_perm(Perm.ELIGIBILITY_DECIDE, patient.clinic_id),
        "decision_form": extra.get("decision_form") or DecisionForm(),
    }
    if has_program:
        context["eligibility"] = _eligibility(patient, today)
        # The label's headache-day duration (BTX-ELIG-HEADACHE-4H), shown next to the policy flag.
        context["headache_day_min_hours"] = rule("BTX-ELIG-HEADACHE-4H").int_("min_hours")
    return context


@staff_view(Perm.ELIGIBILITY_DECIDE)
@require_POST
def decide(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.record_eligibility_decision(
                actor=request.user,
                patient=patient,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            if request.htmx:
                return render_page(request, "diaries/panel.html", panel_context(request, patient))
            return redirect("patients:chart", pk=patient.pk)
    return render_page(
        request,
        "diaries/panel.html",
        panel_context(request, patient, decision_form=form),
        status=422,
    )


@staff_view(Perm.DIARY_EDIT)
@require_http_methods(["GET", "POST"])
def transcribe_day(request: StaffRequest, pk: int, day: str, scope: Scope) -> HttpResponse:
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
                services.save_diary_day(
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
        "history": services.day_history(existing) if existing else [],
        "features": FEATURE_LABELS,
    }
    return render_page(
        request, "diaries/transcribe.html", context, status=422 if form.errors else 200
    )


@staff_view(Perm.DIARY_VIEW)
def export_csv(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    from django.db import transaction

    with transaction.atomic():
        audit.record(
            actor=request.user,
            action="export",
            obj=patient,
            summary="Exported headache diary (CSV)",
        )
    response = StreamingHttpResponse(csvio.export_rows(patient), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="diary-{patient.mrn}.csv"'
    return response


@staff_view(Perm.DIARY_EDIT)
@require_POST
def import_csv(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = csvio.start_import(
                actor=request.user, practice=patient.practice, patient=patient, upload=upload
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("diaries:import_status", job_id=job.pk)
    today = services.local_today()
    context = {
        "patient": patient,
        "today": today,
        "can_edit": True,
        "import_form": form,
        "assign_form": AssignForm(initial={"due_date": today}),
        **diary_context(patient, today),
    }
    return render_page(request, "diaries/diary.html", context, status=422)


@staff_view(Perm.DIARY_EDIT)
def import_status(request: StaffRequest, job_id: int, scope: Scope) -> HttpResponse:
    job = get_object_or_404(DiaryImport, pk=job_id, practice_id=scope.practice_id)
    if job.patient_id is not None and not scope.allows_clinic(job.patient.clinic_id):
        raise Http404
    if job.created_by_id != request.user.pk:
        raise Http404
    return render_page(request, "diaries/import.html", {"job": job}, fragment="progress")


@staff_view(Perm.DIARY_VIEW)
@require_http_methods(["GET", "POST"])
def consultation(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    note = services.open_consultation(patient)
    can_edit = request.user.has_clinic_perm(Perm.CONSULTATION_EDIT, patient.clinic_id)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the physician writes the consultation note.")
        form = ConsultationForm(request.POST)
        if form.is_valid():
            try:
                services.save_consultation(
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
        initial = {f: getattr(note, f) for f in services.STAFF_NOTE_FIELDS} if note else {}
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


@staff_view(Perm.PROGRAM_POLICY_EDIT)
@require_http_methods(["GET", "POST"])
def program_policy(request: StaffRequest, scope: Scope) -> HttpResponse:
    """The practice's program policy (clinic administrators of the whole practice)."""
    if not scope.all_clinics:
        raise PermissionDenied("The program policy is set across the practice.")
    practice = request.user.practice
    row = ProgramPolicy.objects.filter(practice=practice).first()
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.update_program_policy(
                    actor=request.user, practice=practice, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("diaries:policy") + "?saved=1")
    else:
        form = PolicyForm(initial=PolicyForm.initial_from(row))
    stored = facts.policy_document_of(row) if row else {}
    effective = facts.effective_policy(practice.pk)
    context = {
        "form": form,
        "policy_row": row,
        "saved": request.GET.get("saved") == "1" and not form.errors,
        "effective": [
            {
                "label": k.label,
                "value": policy_knobs.value_label(effective[k.key]),
                "is_default": k.key not in stored,
            }
            for k in policy_knobs.KNOBS
        ],
    }
    return render_page(request, "diaries/policy.html", context, status=422 if form.errors else 200)


@staff_view(Perm.DIARY_EDIT)
@require_http_methods(["GET", "POST"])
def enter_questionnaire(request: StaffRequest, pk: int, qid: int, scope: Scope) -> HttpResponse:
    """Staff enter a pending MIDAS or HIT-6 for the patient (marked as entered by staff)."""
    patient = patient_for(scope, pk)
    response = get_object_or_404(QuestionnaireResponse, pk=qid, patient=patient)
    if response.completed_at is not None:
        return redirect(reverse("diaries:diary", args=[patient.pk]) + "#h-scores")
    form = questionnaire_form(response.instrument, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.submit_questionnaire(
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
def assign_questionnaires(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """Assign MIDAS and HIT-6 due on a date (idempotent), e.g. to enter a paper form."""
    patient = patient_for(scope, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        from django.db import transaction

        with transaction.atomic(durable=True):
            services.assign_pre_treatment(
                patient, form.cleaned_data["due_date"], actor=request.user
            )
        return redirect(reverse("diaries:diary", args=[patient.pk]) + "#h-scores")
    today = services.local_today()
    context = {
        "patient": patient,
        "today": today,
        "can_edit": True,
        "import_form": ImportForm(),
        "assign_form": form,
        **diary_context(patient, today),
    }
    return render_page(request, "diaries/diary.html", context, status=422)
