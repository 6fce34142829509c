"""Stock screen: alerts, stock on hand per product and lot, receiving a delivery (clinic stock or a
specialty-pharmacy shipment for one patient), shelf counts, the clinic's alert level, discarding."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.forms import apply_service_errors
from bontrack.inventory import facts, selectors, services
from bontrack.inventory.choices import VialSource, VialStatus, WasteReason
from bontrack.inventory.forms import CountForm, DiscardForm, ReceiveForm, ThresholdForm
from bontrack.inventory.models import Lot, StockCount, Vial
from bontrack.patients.models import Patient

DISCARD_CHOICES = 100  # vials offered for discarding, soonest expiry first
RECENT_COUNTS = 20


def _clinics(scope: Scope):  # type: ignore[no-untyped-def]
    return selectors.clinics_in(scope)


def _discardable(scope: Scope) -> list[Vial]:
    """Vials a manager may discard: in stock, soonest expiry first (one query)."""
    return list(
        Vial.objects.in_scope(scope)
        .filter(status=VialStatus.IN_STOCK)
        .select_related("lot", "clinic")
        .order_by("lot__expiry", "id")[:DISCARD_CHOICES]
    )


def _vial_label(v: Vial) -> str:
    own = " · dispensed for one patient" if v.patient_id else ""
    return (
        f"{v.clinic.name} · lot {v.lot.lot_number} · exp {v.lot.expiry:%Y-%m-%d} · "
        f"{v.lot.size_units} U{own} (vial {v.pk})"
    )


def _count_choices(rows: list[dict[str, Any]], manage: Scope) -> list[tuple[str, str]]:
    allowed = set(_clinics(manage).values_list("pk", flat=True))
    return [
        (
            f"{r['clinic_id']}:{r['lot_id']}",
            f"{r['clinic__name']} · lot {r['lot__lot_number']} ({r['in_stock'] + r['reserved']}"
            " in stock)",
        )
        for r in rows
        if r["clinic_id"] in allowed and r["lot__recalled_at"] is None
    ]


def _page(
    request: StaffRequest,
    scope: Scope,
    *,
    form: ReceiveForm | None = None,
    discard_form: DiscardForm | None = None,
    count_form: CountForm | None = None,
    threshold_form: ThresholdForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = selectors.on_hand(scope)
    today = timezone.localdate()
    manage = request.user.scope(Perm.INVENTORY_MANAGE)
    configure = request.user.scope(Perm.INVENTORY_CONFIGURE)
    ctx: dict[str, Any] = {
        "rows": rows,
        "alerts": selectors.alerts(scope, rows, today),
        "expiry_alert_days": selectors.EXPIRY_ALERT_DAYS,
        "today": today,
        "form": form,
        "discard_form": None,
        "count_form": None,
        "threshold_form": None,
        "counts": list(
            StockCount.objects.in_scope(scope)
            .select_related("lot", "clinic", "counted_by")
            .order_by("-created_at", "-id")[:RECENT_COUNTS]
        ),
    }
    if manage is not None:
        if form is None:
            ctx["form"] = ReceiveForm(clinics=_clinics(manage), sizes=facts.vial_sizes())
        vials = _discardable(manage)
        if vials:
            ctx["discard_form"] = discard_form or DiscardForm(
                vials=[(v.pk, _vial_label(v)) for v in vials]
            )
        choices = _count_choices(rows, manage)
        if choices:
            ctx["count_form"] = count_form or CountForm(lots=choices)
    if configure is not None:
        ctx["threshold_form"] = threshold_form or ThresholdForm(clinics=_clinics(configure))
        ctx["thresholds"] = sorted(selectors.thresholds(configure).values())
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
        data = dict(form.cleaned_data)
        mrn = data.pop("patient_mrn").strip()
        data["source"] = data["source"] or VialSource.CLINIC_STOCK
        patient = None
        if data["source"] == VialSource.SPECIALTY_PHARMACY and mrn:
            patient = Patient.objects.filter(clinic=data["clinic"], mrn=mrn).first()
            if patient is None:
                form.add_error("patient_mrn", "No patient of this clinic has that MRN.")
        if not form.errors:
            try:
                lot = services.receive_lot(actor=request.user, patient=patient, **data)
            except (ValidationError, services.Conflict) as exc:
                if isinstance(exc, ValidationError) and "patient" in exc.message_dict:
                    form.add_error("patient_mrn", exc.message_dict["patient"])
                    exc = ValidationError(
                        {k: v for k, v in exc.message_dict.items() if k != "patient"}
                        or {"patient_mrn": []}
                    )
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Received {data['vials']} vial(s) of lot {lot.lot_number}."
                )
                return redirect("inventory:stock")
    return _page(request, scope, form=form, status=422)


@staff_view(Perm.INVENTORY_MANAGE)
@require_POST
def count(request: StaffRequest, scope: Scope) -> HttpResponse:
    """Record a shelf count of one lot at one clinic."""
    rows = selectors.on_hand(scope)
    form = CountForm(request.POST, lots=_count_choices(rows, scope))
    if form.is_valid():
        clinic_id, lot_id = (int(x) for x in form.cleaned_data["lot_key"].split(":"))
        clinic = get_object_or_404(_clinics(scope), pk=clinic_id)
        lot = get_object_or_404(Lot.objects.in_scope(scope), pk=lot_id)
        try:
            row = services.record_count(
                actor=request.user,
                clinic=clinic,
                lot=lot,
                counted=form.cleaned_data["counted"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            text = (
                "Count recorded; it matches the record."
                if row.discrepancy == 0
                else f"Count recorded with a difference of {row.discrepancy:+d} vial(s)."
            )
            messages.success(request, text)
            return redirect("inventory:stock")
    return _page(request, scope, count_form=form, status=422)


@staff_view(Perm.INVENTORY_CONFIGURE)
@require_POST
def threshold(request: StaffRequest, scope: Scope) -> HttpResponse:
    """The clinic administrator sets the low-stock alert level of a clinic."""
    form = ThresholdForm(request.POST, clinics=_clinics(scope))
    if form.is_valid():
        try:
            services.set_low_stock_threshold(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Low-stock alert level saved.")
            return redirect("inventory:stock")
    return _page(request, scope, threshold_form=form, status=422)


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
            services.discard_vial(
                actor=request.user,
                vial=vial,
                reason=form.cleaned_data["reason"],
                reason_code=form.cleaned_data["reason_code"] or WasteReason.OTHER,
            )
        except services.Conflict as exc:
            apply_service_errors(form, exc)
            return _page(request, scope, discard_form=form, status=409)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Vial {vial.pk} discarded; its units are recorded as waste.")
            return redirect("inventory:stock")
    return _page(request, scope, discard_form=form, status=422)
