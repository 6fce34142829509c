"""Clinic-defined, off-label protocols (issue 10 item 11): the builder (physician only) and the
patient's off-label plan page, where a physician orders a plan from a protocol."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.core.parsing import ParseError, parse_int
from bontrack.patients.views import apply_service_errors
from bontrack.treatments import facts
from bontrack.treatments.actions import clinic_protocols as actions
from bontrack.treatments.actions import common
from bontrack.treatments.forms import ClinicProtocolForm, OrderProtocolForm
from bontrack.treatments.models import (
    OFF_LABEL_INDICATION,
    ClinicProtocol,
    TreatmentPlan,
)
from bontrack.treatments.views.context import patient_in_scope

PAGE_SIZE = 50


def _grid() -> list[tuple[str, str, list[str]]]:
    return [
        (code, label, list(facts.protocol_sides(OFF_LABEL_INDICATION, code)))
        for code, label in facts.protocol_muscle_choices(OFF_LABEL_INDICATION)
    ]


def _clinic_rows(scope: Scope) -> Any:
    rows = Clinic.objects.filter(practice_id=scope.practice_id)
    return rows if scope.all_clinics else rows.filter(pk__in=scope.clinic_ids)


def _clinics(scope: Scope) -> list[tuple[int, str]]:
    return list(_clinic_rows(scope).order_by("name").values_list("pk", "name"))


def _protocols(scope: Scope) -> Any:
    return ClinicProtocol.objects.in_scope(scope).select_related("clinic", "created_by")


@staff_view(Perm.CLINIC_PROTOCOL_MANAGE)
@require_http_methods(["GET"])
def protocol_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    rows = list(_protocols(scope).prefetch_related("lines")[:PAGE_SIZE])
    labels = facts.muscle_labels()
    for p in rows:
        lines = list(p.lines.all())
        for ln in lines:
            ln.label = labels.get(ln.muscle, ln.muscle)  # type: ignore[attr-defined]
        p.total_units = sum((ln.units for ln in lines), Decimal(0))  # type: ignore[attr-defined]
        p.total_sites = sum(ln.sites for ln in lines)  # type: ignore[attr-defined]
    common.record_list_view(actor=request.user, what="clinic-defined protocols")
    return render(
        request,
        "treatments/clinic_protocols.html",
        {
            "protocols": rows,
            "saved": request.GET.get("saved", ""),
            "retreat_days": facts.off_label_retreatment_days(OFF_LABEL_INDICATION),
        },
    )


@staff_view(Perm.CLINIC_PROTOCOL_MANAGE)
@require_http_methods(["GET", "POST"])
def protocol_edit(request: StaffRequest, scope: Scope, cpid: int | None = None) -> HttpResponse:
    protocol = get_object_or_404(_protocols(scope), pk=cpid) if cpid is not None else None
    clinics = _clinics(scope)
    if request.method == "POST":
        form = ClinicProtocolForm(request.POST, clinics=clinics, grid=_grid())
        if form.is_valid():
            clinic = get_object_or_404(
                _clinic_rows(scope), pk=parse_int(form.cleaned_data["clinic"])
            )
            try:
                actions.save_clinic_protocol(
                    actor=request.user,
                    clinic=clinic,
                    protocol=protocol,
                    lines=form.lines(),
                    name=form.cleaned_data["name"],
                    condition=form.cleaned_data["condition"],
                    rationale=form.cleaned_data["rationale"],
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(reverse("treatments:clinic_protocols") + "?saved=1")
    else:
        initial: dict[str, Any] = {}
        if protocol is not None:
            initial = {
                "name": protocol.name,
                "condition": protocol.condition,
                "rationale": protocol.rationale,
                "clinic": str(protocol.clinic_id),
            }
            for ln in protocol.lines.all():
                initial[f"s_{ln.muscle}__{ln.side}"] = ln.sites
                initial[f"u_{ln.muscle}__{ln.side}"] = ln.units
        form = ClinicProtocolForm(initial=initial, clinics=clinics, grid=_grid())
    return render(
        request,
        "treatments/clinic_protocol_form.html",
        {"form": form, "protocol": protocol},
        status=422 if form.errors else 200,
    )


@staff_view(Perm.CLINIC_PROTOCOL_MANAGE)
@require_POST
def protocol_retire(request: StaffRequest, scope: Scope, cpid: int) -> HttpResponse:
    protocol = get_object_or_404(_protocols(scope), pk=cpid)
    with contextlib.suppress(Conflict):  # already retired: the list says so
        actions.retire_clinic_protocol(actor=request.user, protocol=protocol)
    return redirect(reverse("treatments:clinic_protocols") + "?saved=retired")


def _off_label_plan(patient: Any) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.filter(patient=patient, indication=OFF_LABEL_INDICATION, active=True)
        .select_related("clinic_protocol", "ordered_by")
        .prefetch_related("lines")
        .first()
    )


@staff_view(Perm.SESSION_VIEW)
@require_http_methods(["GET", "POST"])
def patient_plan(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """The patient's off-label plan: its protocol, lines, outcome measure (pain score and the
    patient's goals) and, for a physician, ordering a plan from a clinic-defined protocol."""
    patient = patient_in_scope(scope, pk)
    can_order = request.user.has_clinic_perm(Perm.CLINIC_PROTOCOL_MANAGE, patient.clinic_id)
    available = list(
        ClinicProtocol.objects.filter(clinic__practice_id=patient.practice_id, active=True)
        .filter(clinic_id=patient.clinic_id)
        .values_list("pk", "name")
    )
    form = OrderProtocolForm(protocols=available)
    if request.method == "POST":
        if not can_order:
            raise PermissionDenied("Only a physician orders an off-label plan.")
        form = OrderProtocolForm(request.POST, protocols=available)
        if form.is_valid():
            try:
                chosen = ClinicProtocol.objects.get(
                    pk=parse_int(form.cleaned_data["protocol"]), clinic_id=patient.clinic_id
                )
                actions.order_plan(
                    actor=request.user,
                    patient=patient,
                    protocol=chosen,
                    note=form.cleaned_data["note"],
                )
            except (ParseError, ClinicProtocol.DoesNotExist):
                form.add_error("protocol", "Choose a protocol from the list.")
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                return redirect(
                    reverse("treatments:off_label_plan", args=[patient.pk]) + "?saved=1"
                )
    else:
        common.record_view(actor=request.user, patient=patient, what="off-label plan")
    plan = _off_label_plan(patient)
    lines = list(plan.lines.all()) if plan else []
    return render(
        request,
        "treatments/off_label_plan.html",
        {
            "patient": patient,
            "plan": plan,
            "lines": lines,
            "labels": facts.muscle_labels(),
            "units": sum((ln.units for ln in lines), Decimal(0)),
            "sites": sum(ln.sites for ln in lines),
            "can_order": can_order and bool(available),
            "form": form,
            "saved": request.GET.get("saved", ""),
            "retreat_days": facts.off_label_retreatment_days(OFF_LABEL_INDICATION),
        },
        status=422 if form.errors else 200,
    )
