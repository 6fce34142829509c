"""Stock screen: vials in stock per lot and clinic, receiving a delivery, discarding a vial."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.models import Clinic
from bontrack.inventory import services
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.forms import DiscardForm, ReceiveForm
from bontrack.inventory.models import Vial
from bontrack.patients.views import apply_service_errors
from bontrack.treatments import facts


def _clinics(scope: Scope):  # type: ignore[no-untyped-def]
    qs = Clinic.objects.filter(practice_id=scope.practice_id)
    return qs if scope.all_clinics else qs.filter(pk__in=scope.clinic_ids)


@staff_view(Perm.INVENTORY_VIEW)
@require_http_methods(["GET", "POST"])
def stock(request: HttpRequest, scope: Scope) -> HttpResponse:
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
    form = None
    if manage is not None:
        form = ReceiveForm(request.POST or None, clinics=_clinics(manage), sizes=facts.vial_sizes())
        if request.method == "POST" and form.is_valid():
            try:
                services.receive_lot(actor=request.user, **form.cleaned_data)
            except (ValidationError, services.Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect("inventory:stock")
    elif request.method == "POST":
        return HttpResponse(status=403)
    status = 422 if form is not None and form.errors else 200
    return render(
        request, "inventory/stock.html", {"rows": list(rows), "form": form}, status=status
    )


@staff_view(Perm.INVENTORY_MANAGE)
@require_POST
def discard(request: HttpRequest, vial_id: int, scope: Scope) -> HttpResponse:
    vial = get_object_or_404(Vial.objects.in_scope(scope), pk=vial_id)
    form = DiscardForm(request.POST)
    if form.is_valid():
        try:
            services.discard_vial(actor=request.user, vial=vial, reason=form.cleaned_data["reason"])
        except (ValidationError, services.Conflict) as exc:
            return HttpResponse(str(exc), status=409 if isinstance(exc, services.Conflict) else 422)
        return redirect("inventory:stock")
    return HttpResponse("Give a reason.", status=422)
