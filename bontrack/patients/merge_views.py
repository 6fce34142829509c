"""One patient, one chart: merge a duplicate chart into this one (pending, undo, confirm), and the
practice's medical record number format."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.forms import apply_service_errors
from bontrack.core.htmx import render_page
from bontrack.core.parsing import BadQuery, query_int
from bontrack.patients import services
from bontrack.patients.choices import PatientStatus
from bontrack.patients.duplicates import likely_duplicates
from bontrack.patients.forms import MergeForm, MrnFormatForm, SearchForm
from bontrack.patients.models import MrnFormat, Patient, PatientMerge

RESULTS = 20
# The relation of treatment sessions to the chart (a label: patients does not import treatments).
SESSIONS = "treatments.treatmentsession.patient"


def _chart(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(
        Patient.objects.in_scope(scope)
        .select_related("clinic")
        .exclude(status=PatientStatus.MERGED),
        pk=pk,
    )


def _relation_labels() -> dict[str, tuple[str, str]]:
    return {
        services._key(rel): (
            str(rel.related_model._meta.verbose_name),
            str(rel.related_model._meta.verbose_name_plural),
        )
        for rel in services.patient_relations()
    }


def _counted(labels: dict[str, tuple[str, str]], rows: dict[str, list[object]]) -> list[str]:
    """'1 treatment session', '2 vials': one line per relation."""
    lines = []
    for key, ids in rows.items():
        one, many = labels.get(key, ("other record", "other records"))
        lines.append((one if len(ids) == 1 else many, len(ids)))
    return [f"{n} {label}" for label, n in sorted(lines)]


@staff_view(Perm.PATIENT_MERGE)
@require_http_methods(["GET", "POST"])
def merge_start(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """Find the other chart (likely duplicates first, or a search), compare, then merge."""
    survivor = _chart(scope, pk)
    form = SearchForm(request.GET)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    duplicate = None
    try:
        chosen = query_int(request, "duplicate")
    except BadQuery:
        chosen = None
    if request.method == "POST":
        merge_form = MergeForm(request.POST)
        if merge_form.is_valid():
            duplicate = _chart(scope, merge_form.cleaned_data["duplicate"])
            try:
                merge = services.start_merge(
                    actor=request.user, survivor=survivor, duplicate=duplicate
                )
            except (ValidationError, services.Conflict) as exc:
                apply_service_errors(merge_form, exc)
            else:
                messages.success(
                    request,
                    f"Chart {duplicate.mrn} was merged into this chart. Check the result, then "
                    "confirm the merge (or undo it).",
                )
                return redirect("patients:merge_detail", pk=merge.pk)
        errors = [e for errs in merge_form.errors.values() for e in errs]
        return render_page(
            request,
            "patients/merge_start.html",
            {"patient": survivor, "duplicate": duplicate, "errors": errors, "form": form},
            status=422,
        )
    if chosen is not None:
        duplicate = _chart(scope, chosen)
        if duplicate.pk == survivor.pk:
            raise Http404
    results: list[Patient] = []
    if query:
        results = list(
            Patient.objects.in_scope(scope)
            .search(query)
            .exclude(pk=survivor.pk)
            .exclude(status=PatientStatus.MERGED)
            .select_related("clinic")
            .order_by("name_key", "id")[:RESULTS]
        )
    candidates = likely_duplicates(
        practice_id=scope.practice_id,
        first_name=survivor.first_name,
        last_name=survivor.last_name,
        date_of_birth=survivor.date_of_birth,
        phone=survivor.phone,
        email=survivor.email,
        exclude_ids=(survivor.pk,),
    )
    visible = set(
        Patient.objects.in_scope(scope)
        .filter(pk__in=[c.patient.pk for c in candidates])
        .values_list("pk", flat=True)
    )
    candidates = [c for c in candidates if c.patient.pk in visible]
    services.record_chart_view(actor=request.user, patient=survivor, what="chart merge")
    if duplicate is not None:
        services.record_chart_view(actor=request.user, patient=duplicate, what="chart merge")
    return render_page(
        request,
        "patients/merge_start.html",
        {
            "patient": survivor,
            "duplicate": duplicate,
            "candidates": candidates,
            "results": results,
            "query": query,
            "form": form,
        },
    )


def _merge_for(scope: Scope, pk: int) -> PatientMerge:
    merge = get_object_or_404(
        PatientMerge.objects.select_related(
            "survivor__clinic", "duplicate__clinic", "requested_by", "decided_by"
        ),
        pk=pk,
        practice_id=scope.practice_id,
    )
    if not (
        scope.allows_clinic(merge.survivor.clinic_id)
        and scope.allows_clinic(merge.duplicate.clinic_id)
    ):
        raise Http404
    return merge


@staff_view(Perm.PATIENT_MERGE)
@require_http_methods(["GET", "POST"])
def merge_detail(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    merge = _merge_for(scope, pk)
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "undo":
                services.undo_merge(actor=request.user, merge=merge)
                messages.success(
                    request, "The merge was undone: the two charts are separate again."
                )
                return redirect("patients:chart", pk=merge.survivor_id)
            if action == "confirm":
                services.confirm_merge(actor=request.user, merge=merge)
                messages.success(request, "The merge is confirmed: one patient, one chart.")
                return redirect("patients:chart", pk=merge.survivor_id)
            errors.append("Choose to confirm or to undo the merge.")
        except services.Conflict as exc:
            errors.append(str(exc))
        except PermissionDenied:
            raise
        merge = _merge_for(scope, pk)
    else:
        services.record_chart_view(actor=request.user, patient=merge.survivor, what="chart merge")
    labels = _relation_labels()
    moved = _counted(labels, merge.moved)
    stayed = _counted(labels, services.blocking(merge.stayed))
    same = _counted(
        labels,
        {
            k.removesuffix(services.SAME): v
            for k, v in merge.stayed.items()
            if k.endswith(services.SAME)
        },
    )
    return render_page(
        request,
        "patients/merge_detail.html",
        {
            "merge": merge,
            "moved": moved,
            "stayed": stayed,
            "same": same,
            "sessions_moved": bool(merge.moved.get(SESSIONS)),
            "errors": errors,
        },
        status=409 if errors else 200,
    )


@staff_view(Perm.PROGRAM_POLICY_EDIT)
@require_http_methods(["GET", "POST"])
def mrn_format(request: StaffRequest, scope: Scope) -> HttpResponse:
    current = MrnFormat.objects.filter(practice_id=scope.practice_id).first()
    initial = {"mrn_prefix": current.prefix, "digits": current.digits} if current else {}
    form = MrnFormatForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            fmt = services.set_mrn_format(
                actor=request.user,
                practice_id=scope.practice_id,
                prefix=form.cleaned_data["mrn_prefix"] or "",
                digits=form.cleaned_data["digits"],
            )
        except ValidationError as exc:
            if "prefix" in exc.message_dict:
                form.add_error("mrn_prefix", exc.message_dict["prefix"])
            else:
                apply_service_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, "Only an administrator of the whole practice sets this format.")
        else:
            messages.success(request, f"Saved. The next new chart gets {fmt.example}.")
            return redirect("patients:mrn_format")
    return render_page(
        request,
        "patients/mrn_format.html",
        {"form": form, "current": current},
        status=422 if form.errors else 200,
    )
