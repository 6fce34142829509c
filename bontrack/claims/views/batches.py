"""Export a batch (confirmation, then the files), the list of batches and their downloads."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.claims.actions.export import export_batch
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.forms import ExportForm
from bontrack.claims.models import BillingProfile, Claim, ClaimBatch, Coverage
from bontrack.claims.pdf import superbill_pdf
from bontrack.claims.views.queue import clinics_of
from bontrack.core.errors import Conflict
from bontrack.core.forms import apply_service_errors


@staff_view(Perm.CLAIM_EXPORT)
@require_http_methods(["GET", "POST"])
def export(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinics = clinics_of(scope)
    choices = [(c.pk, c.name) for c in clinics]
    ready = dict(
        Claim.objects.in_scope(scope)
        .filter(status=ClaimStatus.READY)
        .values_list("clinic_id")
        .annotate(n=Count("id"))
        .values_list("clinic_id", "n")
    )
    status = 200
    if request.method == "POST":
        form = ExportForm(request.POST, clinics=choices)
        if form.is_valid() and request.POST.get("confirm") == "yes":
            try:
                batch = export_batch(actor=request.user, clinic_id=form.cleaned_data["clinic"])
            except Conflict as exc:
                apply_service_errors(form, exc)
                status = 409
            except ValidationError as exc:
                apply_service_errors(form, exc)
                status = 422
            else:
                messages.success(
                    request,
                    f"Exported batch {batch.pk}: {batch.claim_count} claims. Download the 837P "
                    "file, the CSV and the superbill below.",
                )
                return redirect("claims:batch", pk=batch.pk)
        else:
            status = 422
    else:
        form = ExportForm(clinics=choices)
    return render(
        request,
        "claims/export.html",
        {
            "form": form,
            "ready": [(c, ready.get(c.pk, 0)) for c in clinics],
            "total": sum(ready.values()),
            "has_profile": BillingProfile.objects.filter(practice_id=scope.practice_id).exists(),
        },
        status=status,
    )


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def batch_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    batches = list(ClaimBatch.objects.in_scope(scope).select_related("created_by", "clinic")[:100])
    return render(request, "claims/batches.html", {"batches": batches})


def _batch(scope: Scope, pk: int) -> ClaimBatch:
    return get_object_or_404(
        ClaimBatch.objects.in_scope(scope).select_related("created_by", "clinic"), pk=pk
    )


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def batch_detail(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    batch = _batch(scope, pk)
    claims = list(
        Claim.objects.in_scope(scope)
        .filter(batch=batch)
        .select_related("patient", "clinic")
        .order_by("service_date", "id")
    )
    audit.record(
        actor=request.user,
        action="view",
        obj=batch,
        practice_id=scope.practice_id,
        summary=f"Viewed batch {batch.pk} ({len(claims)} claims)",
    )
    return render(request, "claims/batch.html", {"batch": batch, "claims": claims})


def _download(
    request: StaffRequest, batch: ClaimBatch, what: str, body: bytes | str, ctype: str, name: str
) -> HttpResponse:
    audit.record(
        actor=request.user,
        action="export",
        obj=batch,
        practice_id=batch.practice_id,
        summary=f"Downloaded the {what} of batch {batch.pk}",
    )
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def batch_csv(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    batch = _batch(scope, pk)
    return _download(
        request,
        batch,
        "CSV",
        batch.csv_text,
        "text/csv; charset=utf-8",
        f"claims-batch-{batch.pk}.csv",
    )


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def batch_x12(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    batch = _batch(scope, pk)
    return _download(
        request,
        batch,
        "837P file",
        batch.x12_text,
        "application/edi-x12",
        f"claims-batch-{batch.pk}-837p.x12",
    )


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def batch_pdf(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    batch = _batch(scope, pk)
    claims = list(
        Claim.objects.filter(batch=batch)
        .select_related("patient", "clinic")
        .prefetch_related("lines")
        .order_by("service_date", "id")
    )
    coverage = {
        c.patient_id: c
        for c in Coverage.objects.filter(patient_id__in={x.patient_id for x in claims})
    }
    profile = BillingProfile.objects.filter(practice_id=batch.practice_id).first()
    body = superbill_pdf(batch=batch, profile=profile, claims=claims, coverage=coverage)
    return _download(
        request, batch, "superbill", body, "application/pdf", f"superbill-batch-{batch.pk}.pdf"
    )
