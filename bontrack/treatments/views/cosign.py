"""The physician's co-signature worklist, the co-sign confirmation, and signing a plan (the order)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.pagination import BadCursor
from bontrack.core.timezones import zones_differ
from bontrack.treatments import selectors
from bontrack.treatments.actions import common
from bontrack.treatments.actions import cosign as cosign_actions
from bontrack.treatments.actions import orders as orders_actions
from bontrack.treatments.models import TreatmentPlan
from bontrack.treatments.views.context import session_in_scope, session_zone


@staff_view(Perm.SESSION_COSIGN)
@require_GET
def worklist(request: StaffRequest, scope: Scope) -> HttpResponse:
    """Sessions awaiting a co-signature in the physician's clinics, newest first, paged."""
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.cosign_worklist(scope, cursor, selectors.COSIGN_PAGE)
    except BadCursor as exc:
        raise Http404 from exc
    with transaction.atomic():
        audit.record(
            actor=request.user,
            action="view",
            object_type="treatments.cosign_worklist",
            summary=f"Viewed the co-signature worklist ({len(page.items)} sessions)",
        )
    # Each row in its clinic's zone; the zone named when the clinics of the page differ.
    with_zone = zones_differ(s.clinic for s in page.items)
    return render(
        request,
        "treatments/worklist.html",
        {"page": page, "cursor": cursor, "with_zone": with_zone},
    )


@staff_view(Perm.SESSION_COSIGN)
@require_GET
def worklist_count(request: StaffRequest, scope: Scope) -> HttpResponse:
    """The navigation badge: how many sessions await this physician's co-signature."""
    count = selectors.cosign_count(scope)
    return render(request, "treatments/_worklist_badge.html", {"count": count})


@staff_view(Perm.SESSION_COSIGN)
@require_http_methods(["GET", "POST"])
def cosign(request: StaffRequest, sid: int, scope: Scope) -> HttpResponse:
    """Review a session awaiting co-signature; co-sign it once confirmed (``confirm=yes``)."""
    session = session_in_scope(scope, sid)
    status = 200
    errors: list[str] = []
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            cosign_actions.cosign_session(actor=request.user, session=session)
        except Conflict as exc:
            errors, status = [str(exc)], 409
        else:
            messages.success(
                request,
                f"Co-signed the session of {session.patient.full_name} "
                f"({session.performed_at:%Y-%m-%d}).",
            )
            return redirect("treatments:worklist")
    elif request.method == "GET":
        common.record_view(
            actor=request.user, patient=session.patient, what=f"session {session.pk} to co-sign"
        )
    view = selectors.view_of(session)
    with timezone.override(session_zone(session)):
        return render(
            request,
            "treatments/cosign.html",
            {
                "session": session,
                "patient": session.patient,
                "reasons": orders_actions.stored_reasons(session),
                "units_done": view.units_done,
                "sites_done": view.sites_done,
                "errors": errors,
                "awaiting": session.awaits_cosign,
            },
            status=status,
        )


@staff_view(Perm.SESSION_COSIGN)
@require_POST
def plan_sign(request: StaffRequest, pid: int, scope: Scope) -> HttpResponse:
    """A physician signs a plan saved by someone else: it becomes the order (ticked confirm)."""
    plan = get_object_or_404(TreatmentPlan.objects.in_scope(scope), pk=pid)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick “I order this plan” to sign it.")
        return redirect("patients:chart", pk=plan.patient_id)
    try:
        orders_actions.sign_plan(actor=request.user, plan=plan)
    except (ValidationError, Conflict) as exc:
        for msg in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
            messages.error(request, f"The plan was not signed: {msg}")
    else:
        messages.success(request, "The plan is signed: it is the order for the next session.")
    return redirect("patients:chart", pk=plan.patient_id)
