"""Lot trace and recall: where a lot went (patients, sessions, muscles, doses, adverse effects since),
the recall action with its confirmation, the patient contact log and the CSV export."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core import csvexport
from bontrack.core.errors import Conflict
from bontrack.core.forms import apply_service_errors
from bontrack.inventory import services as inventory
from bontrack.inventory.choices import ContactMethod
from bontrack.inventory.forms import ContactForm, RecallForm
from bontrack.inventory.models import Lot
from bontrack.patients.models import Patient
from bontrack.treatments import lot_trace

TRACE_PAGE = 200  # patients shown on the page; the CSV export lists every one


def _lot(scope: Scope, lot_id: int) -> Lot:
    return get_object_or_404(Lot.objects.in_scope(scope).select_related("recalled_by"), pk=lot_id)


def record_trace_read(request: StaffRequest, lot: Lot, action: str, patients: int) -> None:
    """The trace shows patient data: one audit row per read (its own transaction)."""
    audit.record(
        actor=request.user,
        action=action,
        obj=lot,
        practice_id=lot.practice_id,
        summary=f"{'Exported' if action == 'export' else 'Viewed'} the trace of lot "
        f"{lot.lot_number} ({patients} patients)",
    )


def _page(
    request: StaffRequest,
    scope: Scope,
    lot: Lot,
    *,
    recall_form: RecallForm | None = None,
    contact_form: ContactForm | None = None,
    status: int = 200,
) -> HttpResponse:
    result = lot_trace.trace(lot, scope)
    if status == 200:
        record_trace_read(request, lot, "view", len(result.patients))
    recall_scope = request.user.scope(Perm.LOT_RECALL)
    can_recall = recall_scope is not None and recall_scope.all_clinics
    ctx = {
        "lot": lot,
        "trace": result,
        "can_recall": can_recall and lot.recalled_at is None,
        "recall_form": recall_form or RecallForm(),
        "contact_form": None,
        "page_size": TRACE_PAGE,
        "page_slice": f":{TRACE_PAGE}",
    }
    if lot.recalled_at is not None and recall_scope is not None and result.patients:
        ctx["contact_form"] = contact_form or ContactForm(
            patients=[(p.id, f"{p.name} ({p.mrn})") for p in result.patients]
        )
    return render(request, "treatments/lot_trace.html", ctx, status=status)


@staff_view(Perm.INVENTORY_VIEW)
@require_GET
def trace(request: StaffRequest, lot_id: int, scope: Scope) -> HttpResponse:
    return _page(request, scope, _lot(scope, lot_id))


@staff_view(Perm.LOT_RECALL)
@require_POST
def recall(request: StaffRequest, lot_id: int, scope: Scope) -> HttpResponse:
    lot = _lot(scope, lot_id)
    form = RecallForm(request.POST)
    if form.is_valid():
        try:
            blocked = inventory.recall_lot(
                actor=request.user, lot=lot, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied:
            raise
        except Conflict as exc:
            apply_service_errors(form, exc)
            return _page(request, scope, _lot(scope, lot_id), recall_form=form, status=409)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Lot {lot.lot_number} recalled: {blocked} vial(s) blocked. Contact the patients "
                "listed below.",
            )
            return redirect("treatments:lot_trace", lot_id=lot.pk)
    return _page(request, scope, lot, recall_form=form, status=422)


@staff_view(Perm.LOT_RECALL)
@require_POST
def contact(request: StaffRequest, lot_id: int, scope: Scope) -> HttpResponse:
    lot = _lot(scope, lot_id)
    exposed = list(
        lot_trace.exposed_patients(lot, scope).values_list("pk", "last_name", "first_name", "mrn")
    )
    form = ContactForm(request.POST, patients=[(p[0], f"{p[1]}, {p[2]} ({p[3]})") for p in exposed])
    if form.is_valid():
        patient = get_object_or_404(
            Patient.objects.in_scope(scope), pk=form.cleaned_data["patient_id"]
        )
        try:
            inventory.log_recall_contact(
                actor=request.user,
                lot=lot,
                patient=patient,
                method=form.cleaned_data["method"],
                note=form.cleaned_data["note"],
            )
        except Conflict as exc:
            apply_service_errors(form, exc)
            return _page(request, scope, lot, contact_form=form, status=409)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"{ContactMethod(form.cleaned_data['method']).label} logged for "
                f"{patient.last_name}, {patient.first_name}.",
            )
            return redirect("treatments:lot_trace", lot_id=lot.pk)
    return _page(request, scope, lot, contact_form=form, status=422)


CSV_HEADER = [
    "Patient",
    "MRN",
    "Phone",
    "Email",
    "Session",
    "Date",
    "Clinic",
    "Status",
    "Units from this lot",
    "Other lots in the session",
    "Muscle",
    "Side",
    "Sites",
    "Units",
    "Adverse effects since first exposure",
    "Last contact",
]


@staff_view(Perm.INVENTORY_VIEW)
@require_GET
def export(request: StaffRequest, lot_id: int, scope: Scope) -> HttpResponse:
    lot = _lot(scope, lot_id)
    result = lot_trace.trace(lot, scope)
    out = io.StringIO()
    w = csvexport.writer(out)
    w.writerow(["Lot", lot.lot_number, "NDC", lot.ndc, "Expiry", f"{lot.expiry:%Y-%m-%d}"])
    w.writerow(CSV_HEADER)
    for p in result.patients:
        effects = "; ".join(f"{e['reported_at']:%Y-%m-%d} {e['kind_label']}" for e in p.effects)
        last = (
            f"{p.contacts[0].created_at:%Y-%m-%d} {p.contacts[0].get_method_display()}"
            if p.contacts
            else ""
        )
        for s in p.sessions:
            for site in s.sites:
                w.writerow(
                    [
                        p.name,
                        p.mrn,
                        p.phone,
                        p.email,
                        s.id,
                        f"{s.performed_at:%Y-%m-%d}",
                        s.clinic,
                        s.status_label,
                        s.units_from_lot,
                        ", ".join(s.other_lots),
                        site["muscle"],
                        site["side"],
                        site["sites"],
                        site["units"],
                        effects,
                        last,
                    ]
                )
    record_trace_read(request, lot, "export", len(result.patients))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lot-{lot.pk}-trace.csv"'
    return response
