"""Adverse effects recorded by staff on a session, and resolving them."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.core.timezones import zones_differ
from bontrack.patients.views import apply_service_errors
from bontrack.treatments.actions import common, follow_up
from bontrack.treatments.forms import (
    AdverseEffectForm,
    ResolveForm,
    UrgentReviewForm,
)
from bontrack.treatments.models import (
    AdverseEffect,
)
from bontrack.treatments.views.context import session_in_scope

# ---- adverse effects -------------------------------------------------------------------------------


@staff_view(Perm.SESSION_CHART)
@require_POST
def effect_add(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    form = AdverseEffectForm(request.POST)
    if form.is_valid():
        try:
            effect = follow_up.record_adverse_effect(
                actor=request.user, session=session, **form.cleaned_data
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            if not effect.urgent:
                return redirect("patients:chart", pk=session.patient_id)
            # A symptom of distant spread: the urgent advice at once, on a page of its own.
            return redirect("treatments:effect_recorded", eid=effect.pk)
    return render(
        request,
        "treatments/effect_form.html",
        {"session": session, "form": form},
        status=422,
    )


@staff_view(Perm.SESSION_VIEW)
@require_GET
def effect_recorded(request: StaffRequest, eid: int, scope: Scope) -> HttpResponse:
    """After recording an urgent effect: the advice to give the patient and the clinic phone."""
    effect = get_object_or_404(
        AdverseEffect.objects.in_scope(scope).select_related("patient__clinic", "session__clinic"),
        pk=eid,
    )
    if not effect.urgent:
        return redirect("patients:chart", pk=effect.patient_id)
    common.record_view(actor=request.user, patient=effect.patient, what=f"adverse effect {eid}")
    return render(
        request,
        "treatments/effect_urgent.html",
        {
            "patient": effect.patient,
            "clinic": effect.patient.clinic,
            "urgent_labels": [effect.get_kind_display()],
            "notified": bool(effect.session.clinic.contact_email),
        },
    )


@staff_view(Perm.ADVERSE_EFFECT_REVIEW)
@require_GET
def urgent_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    """The physician's list of urgent adverse-effect reports not yet reviewed, in their scope."""
    effects = list(
        AdverseEffect.objects.in_scope(scope)
        .filter(urgent=True, urgent_reviewed_at__isnull=True)
        .select_related("patient", "session__clinic")
        .order_by("reported_at", "id")[:200]
    )
    reviewed = list(
        AdverseEffect.objects.in_scope(scope)
        .filter(urgent=True, urgent_reviewed_at__isnull=False)
        .select_related("patient", "urgent_reviewed_by", "session__clinic")
        .order_by("-urgent_reviewed_at", "-id")[:20]
    )
    common.record_list_view(
        actor=request.user, what=f"urgent adverse effects ({len(effects)} to review)"
    )
    # Each report in its clinic's zone; the zone named when the clinics of the list differ.
    with_zone = zones_differ(e.session.clinic for e in effects + reviewed)
    return render(
        request,
        "treatments/urgent_effects.html",
        {
            "effects": effects,
            "reviewed": reviewed,
            "form": UrgentReviewForm(),
            "with_zone": with_zone,
        },
    )


@staff_view(Perm.ADVERSE_EFFECT_REVIEW)
@require_POST
def urgent_review(request: StaffRequest, eid: int, scope: Scope) -> HttpResponse:
    effect = get_object_or_404(AdverseEffect.objects.in_scope(scope), pk=eid)
    form = UrgentReviewForm(request.POST)
    if form.is_valid():
        try:
            follow_up.review_urgent_effect(
                actor=request.user, effect=effect, note=form.cleaned_data["note"]
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("treatments:urgent_effects")
    effects = list(
        AdverseEffect.objects.in_scope(scope)
        .filter(urgent=True, urgent_reviewed_at__isnull=True)
        .select_related("patient", "session__clinic")
        .order_by("reported_at", "id")[:200]
    )
    return render(
        request,
        "treatments/urgent_effects.html",
        {"effects": effects, "reviewed": [], "form": form, "failed": effect.pk},
        status=422,
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def effect_resolve(request: HttpRequest, eid: int, scope: Scope) -> HttpResponse:
    effect = get_object_or_404(AdverseEffect.objects.in_scope(scope), pk=eid)
    form = ResolveForm(request.POST)
    resolution = form.cleaned_data["resolution"] if form.is_valid() else ""
    with contextlib.suppress(Conflict):  # already resolved: show the current state
        follow_up.resolve_adverse_effect(actor=request.user, effect=effect, resolution=resolution)
    return redirect("patients:chart", pk=effect.patient_id)
