"""Staff screens: outcome scales per indication (due, trend, entry), the cycle review, suggestions."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.core.forms import apply_service_errors
from bontrack.core.htmx import render_page
from bontrack.patients.models import Patient
from bontrack.treatments import facts as treatment_facts
from bontrack.treatments import scale_selectors
from bontrack.treatments.actions import common
from bontrack.treatments.actions import cycle_review as review_actions
from bontrack.treatments.actions import scales as scale_actions
from bontrack.treatments.facts import scales as facts
from bontrack.treatments.models import (
    AdjustmentSuggestion,
    ResponseReview,
    ScaleEntry,
)
from bontrack.treatments.scale_charts import scale_chart
from bontrack.treatments.scale_forms import (
    CycleReviewForm,
    ScaleForm,
    SuggestionDecisionForm,
    WearingOffForm,
)
from bontrack.treatments.scale_models import SuggestionStatus
from bontrack.treatments.views.context import patient_in_scope, session_in_scope

ENTRY_ROWS = 50


def _indication(code: str) -> str:
    if code not in facts.scale_indications():
        raise Http404
    return code


def scales_url(patient: Patient, indication: str) -> str:
    return reverse("treatments:scales", args=[patient.pk, indication])


def _zone(patient: Patient) -> Any:
    return timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone))


def scale_context(patient: Patient, indication: str) -> dict[str, Any]:
    """Schedule, trend charts and the latest entries of one indication (fixed query count)."""
    today = timezone.localdate()
    data = scale_selectors.cycle_data(patient, indication)
    session_days = [scale_selectors.session_day(s) for s in data.sessions]
    plan = facts.schedule(
        indication, today, session_days, [(e.instrument, e.taken_on) for e in data.entries]
    )
    labels = treatment_facts.muscle_labels()
    charts = []
    for instrument in plan["instruments"]:
        points = [
            (e.taken_on, facts.measures(e.instrument, e.answers))
            for e in data.entries
            if e.instrument == instrument
        ]
        charts.append(
            {
                "instrument": instrument,
                "label": facts.LABELS[instrument],
                "chart": scale_chart(instrument, points, session_days, dict(labels)),
                "count": len(points),
            }
        )
    slots = plan["slots"]
    current = [s for s in slots if s["status"] in ("due", "overdue", "upcoming")]
    cycles = [
        {
            "number": n,
            "session": s,
            "day": session_days[n - 1],
            "wearing_off": data.wearing_off.get(s.pk),
            "effects": data.effects.get(s.pk, []),
        }
        for n, s in enumerate(data.sessions, start=1)
    ]
    return {
        "patient": patient,
        "indication": indication,
        "indication_label": treatment_facts.indication_label(indication),
        "schedule": plan,
        "slots": slots,
        "current_slots": current[: len(plan["instruments"]) * 2],
        "charts": charts,
        "entries": [
            {"entry": e, "summary": entry_summary(e)} for e in reversed(data.entries[-ENTRY_ROWS:])
        ],
        "cycles": cycles,
        "review_after": plan["review_after_cycles"],
        "patient_reported": plan["patient_reported"],
    }


@staff_view(Perm.SESSION_VIEW)
@require_http_methods(["GET"])
def scales(request: StaffRequest, pk: int, indication: str, scope: Scope) -> HttpResponse:
    patient = patient_in_scope(scope, pk)
    indication = _indication(indication)
    if not request.user.has_clinic_perm(Perm.SESSION_VIEW, patient.clinic_id):
        raise PermissionDenied
    context = scale_context(patient, indication)
    context["can_chart"] = request.user.has_clinic_perm(Perm.SESSION_CHART, patient.clinic_id)
    context["wearing_form"] = WearingOffForm(auto_id="wo-%s")
    common.record_view(actor=request.user, patient=patient, what=f"outcome scales ({indication})")
    with _zone(patient):
        return render_page(request, "treatments/scales.html", context)


def _carried_over(patient: Patient, indication: str, instrument: str) -> dict[str, Any]:
    """The goals (GAS) and the muscles (MAS) of the last rating: re-rated each cycle."""
    initial: dict[str, Any] = {"taken_on": timezone.localdate()}
    if instrument not in ("gas", "mas"):
        return initial
    last = (
        ScaleEntry.objects.filter(patient=patient, indication=indication, instrument=instrument)
        .order_by("-taken_on", "-id")
        .first()
    )
    if last is None:
        return initial
    if instrument == "gas":
        for i, goal in enumerate(last.answers.get("goals", [])):
            initial[f"gas_{i}_goal"] = goal.get("goal")
            initial[f"gas_{i}_weight"] = goal.get("weight")
    else:
        for i, row in enumerate(last.answers.get("entries", [])):
            initial[f"mas_{i}_muscle"] = row.get("muscle")
            initial[f"mas_{i}_side"] = row.get("side")
    return initial


@staff_view(Perm.SESSION_CHART)
@require_http_methods(["GET", "POST"])
def scale_enter(
    request: StaffRequest, pk: int, indication: str, instrument: str, scope: Scope
) -> HttpResponse:
    patient = patient_in_scope(scope, pk)
    indication = _indication(indication)
    if instrument not in facts.instruments_for(indication):
        raise Http404
    form = ScaleForm(
        request.POST if request.method == "POST" else None,
        instrument=instrument,
        indication=indication,
        initial=_carried_over(patient, indication, instrument),
    )
    if request.method == "POST" and form.is_valid():
        try:
            scale_actions.record_scale_entry(
                actor=request.user,
                patient=patient,
                indication=indication,
                instrument=instrument,
                taken_on=form.cleaned_data["taken_on"],
                answers=form.answers(),
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{facts.LABELS[instrument]} saved.")
            return redirect(scales_url(patient, indication))
    elif request.method == "GET":
        common.record_view(
            actor=request.user, patient=patient, what=f"{instrument} entry ({indication})"
        )
    context = {
        "patient": patient,
        "indication": indication,
        "indication_label": treatment_facts.indication_label(indication),
        "instrument": instrument,
        "label": facts.LABELS[instrument],
        "form": form,
        "mas_rows": form.rows("mas", 6) if instrument == "mas" else [],
        "gas_rows": form.rows("gas", facts.gas_limits()["goals_max"])
        if instrument == "gas"
        else [],
        "plain_fields": [form[n] for n in form.fields if not n.startswith(("mas_", "gas_"))],
        "mas_grades": facts.mas_grades(),
    }
    return render_page(
        request, "treatments/scale_form.html", context, status=422 if form.errors else 200
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def wearing_off(request: StaffRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    indication = request.GET.get("indication", "")
    form = WearingOffForm(request.POST)
    target = (
        scales_url(session.patient, indication)
        if indication in facts.scale_indications()
        else reverse("patients:chart", args=[session.patient_id])
    )
    if form.is_valid():
        try:
            scale_actions.record_wearing_off(
                actor=request.user, session=session, worn_off_on=form.cleaned_data["worn_off_on"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, "Wearing-off date saved.")
    else:
        messages.error(request, "Enter the date the effect wore off.")
    return redirect(target)


def _review_context(request: StaffRequest, patient: Patient, indication: str) -> dict[str, Any]:
    result, data = scale_selectors.review_result(patient, indication, timezone.localdate())
    suggestions = list(
        AdjustmentSuggestion.objects.filter(patient=patient, indication=indication)
        .select_related("decided_by", "session")
        .order_by("-created_at", "-id")[:20]
    )
    reviews = list(
        ResponseReview.objects.filter(patient=patient, indication=indication).select_related(
            "reviewed_by"
        )[:5]
    )
    labels = treatment_facts.muscle_labels()
    for s in suggestions:
        s.lines_text = [  # type: ignore[attr-defined]
            f"{labels.get(a['muscle'], a['muscle'])}, {a['side']}: "
            + (
                f"{a['sites']} site{'s' if a['sites'] != 1 else ''}, {a['units']:g} U"
                if a["sites"]
                else "left out"
            )
            for a in s.adjustments
        ]
    measures = []
    for row in result["measures"]:
        name = row["measure"]
        grades = facts.mas_order() if row["instrument"] == "mas" else None
        if grades is not None:
            muscle, side = name.split(":", 1)
            title = f"{labels.get(muscle, muscle)}, {side}"
        else:
            title = facts.MEASURE_LABELS.get(name, name)

        def show(v: Any, grades: tuple[str, ...] | None = grades) -> str:
            if v is None:
                return "—"
            return f"grade {grades[int(v)]}" if grades is not None else f"{v:g}"

        measures.append(
            {
                "label": facts.LABELS[row["instrument"]],
                "measure": title,
                "advisory": row["advisory"],
                "baseline": show(row["baseline"]["value"]) if row["baseline"] else "—",
                "baseline_date": row["baseline"]["date"] if row["baseline"] else "",
                "cycles": [
                    {
                        "value": show(c["value"]),
                        "date": c["date"],
                        "change": "—" if c["change"] is None else f"{c['change']:+g}",
                    }
                    for c in row["cycles"]
                ],
            }
        )
    kinds = {e.kind: e.get_kind_display() for es in data.effects.values() for e in es}
    cycles = [
        {
            **c,
            "effects": [kinds.get(k, k) for k in c["adverse_effects"]],
        }
        for c in result["cycles"]
    ]
    can_review = request.user.has_clinic_perm(Perm.RESPONSE_REVIEW, patient.clinic_id)
    return {
        "patient": patient,
        "indication": indication,
        "indication_label": treatment_facts.indication_label(indication),
        "measures": measures,
        "has_advisory_notes": any(r["instrument"] in ("gas", "mas") for r in result["measures"]),
        "cycle_numbers": [c["cycle"] for c in result["cycles"]],
        "cycles": cycles,
        "review_due": result["review_due"],
        "review_after": facts.review_after_cycles(),
        "suggestions": suggestions,
        "open_suggestions": [s for s in suggestions if s.status == SuggestionStatus.OPEN],
        "reviews": reviews,
        "can_review": can_review,
        "decision_form": SuggestionDecisionForm(auto_id=False),
    }


@staff_view(Perm.SESSION_VIEW)
@require_http_methods(["GET", "POST"])
def cycle_review(request: StaffRequest, pk: int, indication: str, scope: Scope) -> HttpResponse:
    patient = patient_in_scope(scope, pk)
    indication = _indication(indication)
    form = CycleReviewForm(
        request.POST if request.method == "POST" else None, indication=indication
    )
    if request.method == "POST":
        if not request.user.has_clinic_perm(Perm.RESPONSE_REVIEW, patient.clinic_id):
            raise PermissionDenied
        if form.is_valid():
            try:
                review_actions.record_cycle_review(
                    actor=request.user,
                    patient=patient,
                    indication=indication,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                    adjustments=form.adjustments(),
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Review recorded; the next plan carries the adjustments.")
                return redirect(reverse("treatments:cycle_review", args=[patient.pk, indication]))
    else:
        # Reads only: suggestions are stored by the actions that change their inputs (a rating,
        # an adverse effect, a signed session, a wearing-off date) or by "Recalculate".
        common.record_view(actor=request.user, patient=patient, what=f"cycle review ({indication})")
    context = _review_context(request, patient, indication)
    context["form"] = form
    context["adjust_rows"] = form.rows()
    with _zone(patient):
        return render_page(
            request,
            "treatments/cycle_review.html",
            context,
            status=422 if form.errors else 200,
        )


@staff_view(Perm.RESPONSE_REVIEW)
@require_POST
def suggestions_refresh(
    request: StaffRequest, pk: int, indication: str, scope: Scope
) -> HttpResponse:
    """The review page's "Recalculate suggestions": stores the last cycle's new suggestions."""
    patient = patient_in_scope(scope, pk)
    indication = _indication(indication)
    made = review_actions.refresh_suggestions(
        actor=request.user, patient=patient, indication=indication
    )
    if made:
        n = len(made)
        messages.success(request, f"{n} new suggestion{'s' if n != 1 else ''} for the last cycle.")
    else:
        messages.success(request, "Suggestions recalculated: nothing new for the last cycle.")
    return redirect(reverse("treatments:cycle_review", args=[patient.pk, indication]))


@staff_view(Perm.RESPONSE_REVIEW)
@require_POST
def suggestion_decide(request: StaffRequest, sug: int, scope: Scope) -> HttpResponse:
    suggestion = get_object_or_404(
        AdjustmentSuggestion.objects.in_scope(scope).select_related("patient"), pk=sug
    )
    form = SuggestionDecisionForm(request.POST)
    target = (
        reverse("treatments:cycle_review", args=[suggestion.patient_id, suggestion.indication])
        if suggestion.indication in facts.scale_indications()
        else reverse("patients:chart", args=[suggestion.patient_id])  # decided on the chart
    )
    if not form.is_valid():
        messages.error(request, "Choose accept or reject.")
        return redirect(target)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        review_actions.decide_suggestion(
            actor=request.user,
            suggestion=suggestion,
            accept=accept,
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Suggestion accepted: the next plan carries it." if accept else "Suggestion rejected.",
        )
    return redirect(target)


def entry_summary(entry: ScaleEntry) -> str:
    """A plain sentence for an entry's result (the table of the scales page)."""
    result = entry.result or {}
    if entry.instrument == "mas":
        return str(result.get("band") or "")
    subs = result.get("subscales") or {}
    if entry.instrument == "twstrs":
        parts = [f"{k} {v}" for k, v in subs.items()]
        total = f"total {float(entry.score):g}; " if entry.score is not None else ""
        return total + ", ".join(parts)
    if entry.instrument == "gas":
        return f"T-score {float(entry.score):g} (advisory)" if entry.score is not None else ""
    return f"{float(entry.score):g}" if entry.score is not None else ""
