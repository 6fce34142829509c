"""Stock screen: vials in stock per lot and clinic, receiving a delivery, discarding a vial."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.forms import apply_service_errors
from bontrack.core.models import Clinic
from bontrack.inventory import facts, services
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.forms import DiscardForm, ReceiveForm
from bontrack.inventory.models import Vial

DISCARD_CHOICES = 100  # vials offered for discarding, soonest expiry first


def _clinics(scope: Scope):  # type: ignore[no-untyped-def]
    qs = Clinic.objects.filter(practice_id=scope.practice_id)
    return qs if scope.all_clinics else qs.filter(pk__in=scope.clinic_ids)


def _discardable(scope: Scope) -> list[Vial]:
    """Vials a manager may discard: in stock, soonest expiry first (one query)."""
    return list(
        Vial.objects.in_scope(scope)
        .filter(status=VialStatus.IN_STOCK)
        .select_related("lot", "clinic")
        .order_by("lot__expiry", "id")[:DISCARD_CHOICES]
    )


def _vial_label(v: Vial) -> str:
    return (
        f"{v.clinic.name} · lot {v.lot.lot_number} · exp {v.lot.expiry:%Y-%m-%d} · "
        f"{v.lot.size_units} U (vial {v.pk})"
    )


def _page(
    request: StaffRequest,
    scope: Scope,
    *,
    form: ReceiveForm | None = None,
    discard_form: DiscardForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = (
        Vial.objects.in_scope(scope)
        .values("clinic__name", "lot__lot_number", "lot__ndc", "lot__expiry", "lot__size_units")
        .annotate(
            in_stock=Count("id", filter=Q(status=VialStatus.IN_STOCK)),
            open=Count("id", filter=Q(status=VialStatus.RECONSTITUTED)),
            used=Count("id", filter=Q(status=VialStatus.USED)),
            discarded=Count("id", filter=Q(status=VialStatus.DISCARDED)),
        )
        .order_by("clinic__name", "lot__expiry", "lot__lot_number")
    )
    manage = request.user.scope(Perm.INVENTORY_MANAGE)
    ctx: dict[str, Any] = {"rows": list(rows), "form": form, "discard_form": None}
    if manage is not None:
        if form is None:
            ctx["form"] = ReceiveForm(clinics=_clinics(manage), sizes=facts.vial_sizes())
        vials = _discardable(manage)
        if vials:
            ctx["discard_form"] = discard_form or DiscardForm(
                vials=[(v.pk, _vial_label(v)) for v in vials]
            )
    return render(request, "inventory/stock.html", ctx, status=status)


@staff_view(Perm.INVENTORY_VIEW)
@require_http_methods(["GET", "POST"])
def stock(request: StaffRequest, scope: Scope) -> HttpResponse:
    if request.method == "GET":
        return _page(request, scope)
    manage = request.user.scope(Perm.INVENTORY_MANAGE)
    if manage is None:
        return HttpResponse(status=403)
    form = ReceiveForm(request.POST, clinics=_clinics(manage), sizes=facts.vial_sizes())
    if form.is_valid():
        try:
            services.receive_lot(actor=request.user, **form.cleaned_data)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("inventory:stock")
    return _page(request, scope, form=form, status=422)


@staff_view(Perm.INVENTORY_MANAGE)
@require_POST
def discard(request: StaffRequest, scope: Scope, vial_id: int | None = None) -> HttpResponse:
    """Discard one vial with a reason (its remaining units are recorded as waste)."""
    vials = _discardable(scope)
    form = DiscardForm(request.POST, vials=[(v.pk, _vial_label(v)) for v in vials])
    if vial_id is not None:
        # The per-vial URL: that vial, even when it is not among the offered ones.
        vial = get_object_or_404(Vial.objects.in_scope(scope), pk=vial_id)
        form.fields["vial_id"].choices = [(vial.pk, str(vial.pk))]
        form.data = {**request.POST.dict(), "vial_id": str(vial.pk)}
    if form.is_valid():
        vial = get_object_or_404(Vial.objects.in_scope(scope), pk=form.cleaned_data["vial_id"])
        try:
            services.discard_vial(actor=request.user, vial=vial, reason=form.cleaned_data["reason"])
        except services.Conflict as exc:
            apply_service_errors(form, exc)
            return _page(request, scope, discard_form=form, status=409)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("inventory:stock")
    return _page(request, scope, discard_form=form, status=422)
