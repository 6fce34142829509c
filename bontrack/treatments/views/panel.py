"""The chart panel: plans, sessions (paged), the response review form."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope

if TYPE_CHECKING:
    from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.core.pagination import BadCursor, Page, keyset_page
from bontrack.patients.models import Patient
from bontrack.patients.views import apply_service_errors
from bontrack.treatments import facts
from bontrack.treatments.actions import charting as charting_actions
from bontrack.treatments.actions import common, follow_up, response_review
from bontrack.treatments.actions import plans as plans_actions
from bontrack.treatments.choices import GIVEN_STATUSES, AdverseEffectStatus
from bontrack.treatments.facts import scales as scale_facts
from bontrack.treatments.forms import (
    AdverseEffectForm,
    PlanForm,
    ReviewForm,
)
from bontrack.treatments.models import (
    AdverseEffect,
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
)
from bontrack.treatments.scale_models import AdjustmentSuggestion, SuggestionStatus
from bontrack.treatments.views.context import muscle_choices, patient_in_scope
from bontrack.treatments.views.templates import line_rows

PANEL_SESSIONS = 10
# ---- chart panel ------------------------------------------------------------------------------


@staff_view(Perm.PATIENT_VIEW)
@require_GET
def panel(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_in_scope(scope, pk)
    if not request.user.has_clinic_perm(Perm.SESSION_VIEW, patient.clinic_id):
        return HttpResponse("")
    page = _session_page(patient, None)
    sessions = page.items
    session_count = TreatmentSession.objects.filter(patient=patient).count()
    last_signed = next((s for s in sessions if s.status in GIVEN_STATUSES), None)
    if last_signed is None:
        last_signed = (
            TreatmentSession.objects.current()
            .filter(patient=patient)
            .select_related("clinic")
            .order_by("-performed_at")
            .first()
        )
    effects = list(
        AdverseEffect.objects.filter(patient=patient)
        .select_related("session", "session__clinic")
        .order_by("-reported_at")[:10]
    )
    plan = plans_actions.active_plan(patient)
    reviews = list(ResponseReview.objects.filter(patient=patient).select_related("reviewed_by")[:5])
    cycles = response_review.signed_cycles(patient)
    response = facts.run_response(patient, timezone.localdate()) if cycles else None
    can_review = cycles >= facts.review_min_cycles() and request.user.has_clinic_perm(
        Perm.RESPONSE_REVIEW, patient.clinic_id
    )
    draft = next((s for s in sessions if s.status == "draft" and not s.amends_id), None)
    # The cycle each treated indication is in: its number of signed sessions (one query).
    per_indication: dict[str, int] = {}
    for first, indications in TreatmentSession.objects.filter(
        patient=patient, status__in=GIVEN_STATUSES
    ).values_list("indication", "indications"):
        for ind in indications or [first]:
            per_indication[ind] = per_indication.get(ind, 0) + 1
    offers = charting_actions.start_offers(patient)
    treated = [o["code"] for o in offers]
    weight = facts.weight_on(patient, timezone.localdate())
    active_plans = []
    others = TreatmentPlan.objects.filter(patient=patient, active=True).prefetch_related("lines")
    if plan is not None:
        others = others.exclude(pk=plan.pk)
    for p in others:
        lines = plans_actions.plan_lines(p)
        total = sum((ln.units for ln in lines), Decimal(0))
        active_plans.append(
            {
                "plan": p,
                "label": facts.indication_label(p.indication),
                "lines": line_rows(lines, weight),
                "total": total,
                "total_per_kg": weight.per_kg(total) if weight.pediatric else None,
            }
        )
    # Open suggestions an adverse effect brought for an indication without a scale review page
    # (a drooping eyelid after chronic migraine): decided here (one query).
    effect_suggestions = list(
        AdjustmentSuggestion.objects.filter(patient=patient, status=SuggestionStatus.OPEN)
        .exclude(indication__in=scale_facts.scale_indications())
        .order_by("-created_at")[:5]
    )
    common.record_view(actor=request.user, patient=patient, what="treatment panel")
    context = {
        "patient": patient,
        "sessions": sessions,
        "session_count": session_count,
        "last_signed": last_signed,
        "next_due": follow_up.next_due(last_signed) if last_signed else None,
        "checkin": follow_up.checkin_window(last_signed) if last_signed else None,
        "effects": effects,
        "open_effects": [e for e in effects if e.status == AdverseEffectStatus.OPEN],
        "plan": plan,
        "active_plans": active_plans,
        "weight": weight,
        "plan_rows": line_rows(plans_actions.plan_lines(plan), weight) if plan else [],
        "plan_per_kg": weight.per_kg(sum((ln.units for ln in plan.lines.all()), Decimal(0)))
        if plan and weight.pediatric
        else None,
        "off_label_plan": TreatmentPlan.objects.filter(
            patient=patient, active=True, clinic_protocol__isnull=False
        )
        .select_related("clinic_protocol")
        .first(),
        "can_order_off_label": cast("User", request.user).has_clinic_perm(
            Perm.CLINIC_PROTOCOL_MANAGE, patient.clinic_id
        ),
        "plan_units": sum((ln.units for ln in plan.lines.all()), Decimal(0)) if plan else None,
        "plan_sites": sum(ln.sites for ln in plan.lines.all()) if plan else None,
        "response": response,
        "cycles": cycles,
        "indication_cycles": [
            {"label": facts.indication_label(ind), "cycle": n}
            for ind, n in sorted(per_indication.items())
        ],
        "scale_links": [
            {"code": ind, "label": facts.indication_label(ind)}
            for ind in scale_facts.scale_indications()
            if ind in per_indication or ind in treated
        ],
        "reviews": reviews,
        "effect_suggestions": effect_suggestions,
        "can_decide_suggestions": cast("User", request.user).has_clinic_perm(
            Perm.RESPONSE_REVIEW, patient.clinic_id
        ),
        "can_review": can_review,
        "review_form": ReviewForm(muscles=muscle_choices()),
        "can_chart": request.user.has_clinic_perm(Perm.SESSION_CHART, patient.clinic_id),
        "can_order": cast("User", request.user).has_clinic_perm(
            Perm.SESSION_COSIGN, patient.clinic_id
        ),
        "draft": draft,
        "offers": offers,
        "plan_offered": plan is not None or facts.follow_the_pain_indication() in treated,
        "plan_label": facts.indication_label(facts.follow_the_pain_indication()),
        "next_cursor": page.next_cursor,
        "effect_form": AdverseEffectForm(auto_id="ae-%s"),
        "plan_form": PlanForm(muscles=muscle_choices(), auto_id="plan-%s"),
    }
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        return render(request, "treatments/panel.html", context)


def _session_page(patient: Patient, cursor: str | None) -> Page:
    return keyset_page(
        TreatmentSession.objects.filter(patient=patient).select_related(
            "clinic", "signed_by", "amends"
        ),
        fields=("performed_at", "id"),
        cursor=cursor,
        size=PANEL_SESSIONS,
        descending=True,
    )


@staff_view(Perm.SESSION_VIEW)
@require_GET
def older_sessions(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """The next page of the panel's session table (keyset: ``?cursor=`` from the last page)."""
    patient = patient_in_scope(scope, pk)
    try:
        page = _session_page(patient, request.GET.get("cursor") or None)
    except BadCursor:
        return HttpResponse("The page cursor is not valid.", status=400)
    common.record_view(actor=request.user, patient=patient, what="older treatment sessions")
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        return render(
            request,
            "treatments/panel.html#session_rows",
            {"patient": patient, "sessions": page.items, "next_cursor": page.next_cursor},
        )


@staff_view(Perm.SESSION_CHART)
@require_POST
def plan_new(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """A new active plan from the last one (or PREEMPT) with a follow-the-pain addition."""
    patient = patient_in_scope(scope, pk)
    form = PlanForm(request.POST, muscles=muscle_choices(), auto_id="plan-%s")
    if form.is_valid():
        try:
            plans_actions.create_plan(
                actor=request.user,
                patient=patient,
                additions=form.additions(),
                note=form.cleaned_data["note"],
            )
        except (ValidationError, Conflict) as exc:
            _plan_errors(form, exc)
        else:
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request, "treatments/plan_form.html", {"patient": patient, "form": form}, status=422
    )


def _plan_errors(form: forms.Form, exc: Exception) -> None:
    """Service errors name ``additions.0.<field>``: show them on the form's field."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = key.rsplit(".", 1)[-1]
            form.add_error(field if field in form.fields else None, errors)
    else:
        apply_service_errors(form, exc)


@staff_view(Perm.RESPONSE_REVIEW)
@require_POST
def review(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_in_scope(scope, pk)
    form = ReviewForm(request.POST, muscles=muscle_choices())
    if form.is_valid():
        try:
            response_review.record_response_review(
                actor=request.user,
                patient=patient,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                adjustments=form.adjustments(),
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("patients:chart", pk=patient.pk)
    # A whole-page POST answers a whole page (the layout around the form and its errors).
    return render(
        request,
        "treatments/review_page.html",
        {"patient": patient, "review_form": form},
        status=422,
    )
