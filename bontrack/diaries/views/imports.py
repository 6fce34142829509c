"""Diary CSV export and import pages (the import job's progress is polled from its row)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.htmx import render_page
from bontrack.diaries.actions import (
    actors,
)
from bontrack.diaries.csv import export as csv_export
from bontrack.diaries.csv import jobs as csv_jobs
from bontrack.diaries.forms import (
    AssignForm,
    ImportForm,
)
from bontrack.diaries.models import (
    DiaryImport,
)
from bontrack.diaries.views.diary import diary_context, patient_for
from bontrack.patients.views import apply_service_errors


@staff_view(Perm.DIARY_VIEW)
def export_csv(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    from django.db import transaction

    with transaction.atomic():
        audit.record(
            actor=request.user,
            action="export",
            obj=patient,
            summary="Exported headache diary (CSV)",
        )
    response = StreamingHttpResponse(csv_export.export_rows(patient), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="diary-{patient.mrn}.csv"'
    return response


@staff_view(Perm.DIARY_EDIT)
@require_POST
def import_csv(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(scope, pk)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = csv_jobs.start_import(
                actor=request.user, practice=patient.practice, patient=patient, upload=upload
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("diaries:import_status", job_id=job.pk)
    today = actors.local_today()
    context = {
        "patient": patient,
        "today": today,
        "can_edit": True,
        "import_form": form,
        "assign_form": AssignForm(initial={"due_date": today}),
        **diary_context(patient, today),
    }
    return render_page(request, "diaries/diary.html", context, status=422)


@staff_view(Perm.DIARY_EDIT)
def import_status(request: HttpRequest, job_id: int, scope: Scope) -> HttpResponse:
    job = get_object_or_404(DiaryImport, pk=job_id, practice_id=scope.practice_id)
    if job.patient_id is not None and not scope.allows_clinic(job.patient.clinic_id):
        raise Http404
    if job.created_by_id != request.user.pk:
        raise Http404
    return render_page(request, "diaries/import.html", {"job": job}, fragment="progress")
