"""Adverse effects recorded by staff on a session, and resolving them."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.patients.views import apply_service_errors
from bontrack.treatments.actions import follow_up
from bontrack.treatments.forms import (
    AdverseEffectForm,
    ResolveForm,
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
            follow_up.record_adverse_effect(
                actor=request.user, session=session, **form.cleaned_data
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("patients:chart", pk=session.patient_id)
    return render(
        request,
        "treatments/effect_form.html",
        {"session": session, "form": form},
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
