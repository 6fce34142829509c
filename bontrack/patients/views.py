from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm, Role
from bontrack.audit.models import AuditEvent
from bontrack.core.forms import apply_service_errors
from bontrack.core.htmx import render_page
from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.patients import facts as patient_facts
from bontrack.patients import services
from bontrack.patients.choices import MergeStatus
from bontrack.patients.duplicates import Candidate, likely_duplicates
from bontrack.patients.forms import (
    ConditionForm,
    FlagForm,
    PatientForm,
    PriorTreatmentForm,
    SearchForm,
    WeightForm,
)
from bontrack.patients.models import NAME_ORDER, SEARCH_ORDER, Patient, PatientFlag, PatientMerge

if TYPE_CHECKING:
    from bontrack.accounts.models import User

PAGE_SIZE = 25


def clinics_in(scope: Scope) -> list[Clinic]:
    qs = Clinic.objects.filter(practice_id=scope.practice_id)
    if not scope.all_clinics:
        qs = qs.filter(pk__in=scope.clinic_ids)
    return list(qs)


def patient_for(request: HttpRequest, scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


@staff_view(Perm.PATIENT_VIEW)
def patient_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    form = SearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data.get("q", "") if valid else ""
    cursor = (form.cleaned_data.get("cursor") or None) if valid else None
    qs = Patient.objects.in_scope(scope).select_related("clinic")
    if query:
        qs = qs.search(query)
    order = SEARCH_ORDER if query else NAME_ORDER
    try:
        page = keyset_page(qs, fields=order, cursor=cursor, size=PAGE_SIZE)
    except BadCursor:
        page = keyset_page(qs, fields=order, cursor=None, size=PAGE_SIZE)
    context = {
        "form": form,
        "query": query,
        "page": page,
        "can_create": request.user.has_clinic_perm(Perm.PATIENT_CREATE),
        "first_page": not cursor,
        "search_error": None if valid else "Search text is limited to 100 characters.",
    }
    services.record_search(
        actor=request.user, practice_id=scope.practice_id, rows=len(page.items), query=query
    )
    return render_page(
        request, "patients/list.html", context, fragment="results", status=200 if valid else 422
    )


@staff_view(Perm.PATIENT_CREATE)
@require_http_methods(["GET", "POST"])
def patient_create(request: StaffRequest, scope: Scope) -> HttpResponse:
    clinics = [
        c for c in clinics_in(scope) if request.user.has_clinic_perm(Perm.PATIENT_CREATE, c.pk)
    ]
    form = PatientForm(
        request.POST or None,
        clinics=clinics,
        mrn_example=services.next_mrn_example(scope.practice_id),
    )
    candidates: list[Candidate] = []
    if request.method == "POST" and form.is_valid():
        data = {
            k: v for k, v in form.cleaned_data.items() if k not in ("clinic", "not_a_duplicate")
        }
        if not form.cleaned_data.get("not_a_duplicate"):
            candidates = likely_duplicates(
                practice_id=scope.practice_id,
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                phone=data.get("phone", ""),
                email=data.get("email", ""),
            )
        if candidates:
            services.record_search(
                actor=request.user,
                practice_id=scope.practice_id,
                rows=len(candidates),
                query="likely duplicates at registration",
            )
            return render_page(
                request,
                "patients/form.html",
                {"form": form, "patient": None, "candidates": candidates},
            )
        try:
            patient = services.register_patient(
                actor=request.user, clinic=form.cleaned_data["clinic"], **data
            )
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("patients:chart", pk=patient.pk)
    status = 422 if form.errors else 200
    return render_page(
        request,
        "patients/form.html",
        {"form": form, "patient": None, "candidates": candidates},
        status=status,
    )


@staff_view(Perm.PATIENT_EDIT)
@require_http_methods(["GET", "POST"])
def patient_edit(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(request, scope, pk)
    clinics = clinics_in(scope)
    form = PatientForm(
        request.POST or None, instance=Patient.objects.get(pk=patient.pk), clinics=clinics
    )
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in form.changed_data}
        try:
            services.update_patient(actor=request.user, patient=patient, **data)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("patients:chart", pk=patient.pk)
    elif request.method == "GET":
        services.record_chart_view(
            actor=request.user, patient=patient, what="demographics for editing"
        )
    status = 422 if form.errors else 200
    return render_page(
        request, "patients/form.html", {"form": form, "patient": patient}, status=status
    )


def chart_context(request: HttpRequest, patient: Patient, **forms_: Any) -> dict[str, Any]:
    flags = list(patient.flags.all())
    today = timezone.localdate()
    age = (
        today.year
        - patient.date_of_birth.year
        - ((today.month, today.day) < (patient.date_of_birth.month, patient.date_of_birth.day))
    )
    context: dict[str, Any] = {
        "patient": patient,
        "age": age,
        "pediatric": patient_facts.is_pediatric(age),
        "weights": list(patient.weights.all()[:10]),
        "conditions": list(patient.conditions.all()),
        "flags": flags,
        "alerts": [f for f in flags if f.active],
        "prior_treatments": list(patient.prior_treatments.all()),
        "can_edit": request.user.has_clinic_perm(Perm.PATIENT_EDIT, patient.clinic_id),
        "can_edit_clinical": request.user.has_clinic_perm(
            Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id
        ),
        "can_view_audit": request.user.has_clinic_perm(Perm.AUDIT_VIEW, patient.clinic_id),
        "can_merge": cast("User", request.user).has_clinic_perm(
            Perm.PATIENT_MERGE, patient.clinic_id
        ),
        "merges": list(
            PatientMerge.objects.filter(
                Q(survivor=patient, status=MergeStatus.PENDING)
                | Q(duplicate=patient, status__in=[MergeStatus.PENDING, MergeStatus.CONFIRMED])
            ).select_related("survivor", "duplicate")
        ),
        "weight_form": forms_.get("weight_form") or WeightForm(initial={"measured_on": today}),
        "condition_form": forms_.get("condition_form") or ConditionForm(),
        "flag_form": forms_.get("flag_form") or FlagForm(initial={"noted_on": today}),
        "prior_form": forms_.get("prior_form") or PriorTreatmentForm(),
        "today": today,
    }
    return context


@staff_view(Perm.PATIENT_VIEW)
def patient_chart(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(request, scope, pk)
    services.record_chart_view(actor=request.user, patient=patient)
    return render_page(request, "patients/chart.html", chart_context(request, patient))


CLINICAL_FORMS: dict[str, tuple[type[forms.Form], str, Any]] = {
    "weight": (WeightForm, "weight_form", services.add_weight),
    "condition": (ConditionForm, "condition_form", services.add_condition),
    "flag": (FlagForm, "flag_form", services.add_flag),
    "prior": (PriorTreatmentForm, "prior_form", services.add_prior_treatment),
}


@staff_view(Perm.PATIENT_CLINICAL_EDIT)
@require_POST
def clinical_add(request: StaffRequest, pk: int, kind: str, scope: Scope) -> HttpResponse:
    if kind not in CLINICAL_FORMS:
        raise Http404
    patient = patient_for(request, scope, pk)
    form_class, context_name, service = CLINICAL_FORMS[kind]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=request.user, patient=patient, **form.cleaned_data)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            if request.htmx:
                return render_page(
                    request,
                    "patients/chart.html",
                    chart_context(request, patient),
                    fragment="clinical",
                )
            return redirect("patients:chart", pk=patient.pk)
    context = chart_context(request, patient, **{context_name: form})
    return render_page(request, "patients/chart.html", context, fragment="clinical", status=422)


@staff_view(Perm.PATIENT_CLINICAL_EDIT)
@require_POST
def flag_resolve(request: StaffRequest, pk: int, flag_id: int, scope: Scope) -> HttpResponse:
    patient = patient_for(request, scope, pk)
    flag = get_object_or_404(PatientFlag, pk=flag_id, patient=patient)
    with contextlib.suppress(
        ValidationError, services.Conflict
    ):  # already resolved: show the current state
        services.resolve_flag(actor=request.user, flag=flag, resolved_on=timezone.localdate())
    if request.htmx:
        return render_page(
            request, "patients/chart.html", chart_context(request, patient), fragment="clinical"
        )
    return redirect("patients:chart", pk=patient.pk)


@staff_view(Perm.AUDIT_VIEW)
def access_log(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = patient_for(request, scope, pk)
    # The audit trail never moves: a chart's log includes the rows of charts merged into it.
    events = AuditEvent.objects.filter(
        patient_id__in=services.merged_chart_ids(patient.pk)
    ).select_related("clinic")
    try:
        page = keyset_page(
            events,
            fields=("id",),
            cursor=request.GET.get("cursor") or None,
            size=50,
            descending=True,
        )
    except BadCursor:
        page = keyset_page(events, fields=("id",), cursor=None, size=50, descending=True)
    services.record_chart_view(actor=request.user, patient=patient, what="access log")
    # The audit row keeps codes (`clinic_admin`, `ui`); the page says them in words.
    rows = [
        {
            "e": e,
            "role": ", ".join(ROLE_WORDS.get(r, r) for r in e.role.split(",") if r),
            "channel": CHANNEL_WORDS.get(e.channel, e.channel),
        }
        for e in page.items
    ]
    return render_page(
        request,
        "patients/access_log.html",
        {"patient": patient, "page": page, "rows": rows},
        fragment="rows",
    )


ROLE_WORDS = {**dict(Role.choices), "patient": "Patient"}
CHANNEL_WORDS = {
    "ui": "Staff screens",
    "api": "API",
    "portal": "Patient portal",
    "cli": "Command line",
    "system": "System",
    "email": "E-mail",
    "sms": "Text message",
}
