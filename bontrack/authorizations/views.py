"""Authorization screens: the chart panel, the form, documents, the practice list and its CSV.

Payer packet screens are in ``packet_views.py``."""

from __future__ import annotations

import io
import zoneinfo
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.authorizations import selectors, services, storage
from bontrack.authorizations.charts import units_chart
from bontrack.authorizations.choices import AuthStatus
from bontrack.authorizations.forms import AuthorizationForm, UploadForm
from bontrack.authorizations.models import Authorization, AuthorizationDocument
from bontrack.core import csvexport
from bontrack.core.errors import Conflict
from bontrack.core.forms import apply_service_errors
from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.patients.models import Condition, Patient
from bontrack.treatments.facts import indication_codes, indication_label

LIST_PAGE = 50
EXPORT_MAX = 5000


def _indications() -> list[tuple[str, str]]:
    return [(c, indication_label(c)) for c in indication_codes()]


def _patient(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


def _auth(scope: Scope, pk: int) -> Authorization:
    return get_object_or_404(
        Authorization.objects.in_scope(scope).select_related("patient", "patient__clinic"), pk=pk
    )


def _today(patient: Patient) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(patient.clinic.time_zone)).date()


# ---- the chart panel ------------------------------------------------------------------------


@staff_view(Perm.AUTHORIZATION_VIEW)
@require_GET
def panel(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """The chart's lazily loaded panel: the patient's authorizations with what is left."""
    patient = _patient(scope, pk)
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        states = selectors.patient_states(patient.pk, _today(patient))
        docs: dict[int, list[AuthorizationDocument]] = {}
        for d in AuthorizationDocument.objects.filter(authorization__patient=patient).order_by(
            "-created_at", "-id"
        ):
            docs.setdefault(d.authorization_id, []).append(d)
        services.record_view(actor=request.user, patient=patient, what="prior authorizations")
        return render(
            request,
            "authorizations/panel.html",
            {
                "patient": patient,
                "rows": [{"s": s, "docs": docs.get(s.auth.pk, [])} for s in states],
                "can_edit": request.user.has_clinic_perm(
                    Perm.AUTHORIZATION_EDIT, patient.clinic_id
                ),
                "can_packet": request.user.has_clinic_perm(
                    Perm.AUTHORIZATION_PACKET, patient.clinic_id
                ),
                "warn_days": selectors.EXPIRY_WARNING_DAYS,
            },
        )


# ---- the form -------------------------------------------------------------------------------


def _form_page(
    request: StaffRequest,
    patient: Patient,
    form: AuthorizationForm,
    auth: Authorization | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "authorizations/form.html",
        {"patient": patient, "form": form, "auth": auth},
        status=status,
    )


@staff_view(Perm.AUTHORIZATION_EDIT)
@require_http_methods(["GET", "POST"])
def new(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = _patient(scope, pk)
    if request.method == "GET":
        # The patient's own condition first (a request is usually for what is being treated).
        treated = (
            Condition.objects.filter(patient=patient, active=True)
            .order_by("-id")
            .values_list("indication", flat=True)
            .first()
        )
        form = AuthorizationForm(
            initial={"indication": treated} if treated else None, indications=_indications()
        )
        return _form_page(request, patient, form, None)
    form = AuthorizationForm(request.POST, indications=_indications())
    if form.is_valid():
        try:
            auth = services.create_authorization(
                actor=request.user, patient=patient, **_clean(form.cleaned_data)
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Prior authorization recorded for {patient.first_name} {patient.last_name} "
                f"({auth.payer_name}).",
            )
            return redirect("patients:chart", pk=patient.pk)
    return _form_page(request, patient, form, None, status=422)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("" if v is None and k in ("payer_id", "number", "note") else v) for k, v in data.items()
    }


@staff_view(Perm.AUTHORIZATION_EDIT)
@require_http_methods(["GET", "POST"])
def edit(request: StaffRequest, auth_id: int, scope: Scope) -> HttpResponse:
    auth = _auth(scope, auth_id)
    patient = auth.patient
    if request.method == "GET":
        initial = {f: getattr(auth, f) for f in services.FIELDS}
        form = AuthorizationForm(initial=initial, indications=_indications())
        return _form_page(request, patient, form, auth)
    form = AuthorizationForm(request.POST, indications=_indications())
    if form.is_valid():
        try:
            services.update_authorization(
                actor=request.user, authorization=auth, **_clean(form.cleaned_data)
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Prior authorization updated.")
            return redirect("patients:chart", pk=patient.pk)
    return _form_page(request, patient, form, auth, status=422)


# ---- documents ------------------------------------------------------------------------------


@staff_view(Perm.AUTHORIZATION_EDIT)
@require_http_methods(["GET", "POST"])
def upload(request: StaffRequest, auth_id: int, scope: Scope) -> HttpResponse:
    auth = _auth(scope, auth_id)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            f = form.cleaned_data["file"]
            if f.size > storage.MAX_BYTES:
                form.add_error(
                    "file", f"The file is larger than {storage.MAX_BYTES // (1024 * 1024)} MB."
                )
            else:
                try:
                    services.add_upload(
                        actor=request.user, authorization=auth, name=f.name, data=f.read()
                    )
                except (ValidationError, Conflict) as exc:
                    apply_service_errors(form, exc)
                else:
                    messages.success(request, "Document added to the authorization.")
                    return redirect("patients:chart", pk=auth.patient_id)
    return render(
        request,
        "authorizations/upload.html",
        {"auth": auth, "patient": auth.patient, "form": form},
        status=status,
    )


@staff_view(Perm.AUTHORIZATION_VIEW)
@require_GET
def document(request: StaffRequest, doc_id: int, scope: Scope) -> HttpResponse:
    doc = get_object_or_404(
        AuthorizationDocument.objects.in_scope(scope).select_related("authorization__patient"),
        pk=doc_id,
    )
    try:
        data = storage.read(doc.path)
    except FileNotFoundError:
        raise Http404 from None
    services.record_view(
        actor=request.user,
        patient=doc.authorization.patient,
        what=f"authorization document {doc.pk}",
    )
    response = HttpResponse(data, content_type=doc.content_type)
    safe = "".join(c for c in doc.name if c.isalnum() or c in "-_.") or "document"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---- the practice list ----------------------------------------------------------------------


def _clinics(scope: Scope) -> list[Clinic]:
    qs = Clinic.objects.filter(practice_id=scope.practice_id).order_by("name")
    return list(qs if scope.all_clinics else qs.filter(pk__in=scope.clinic_ids))


def _list_qs(request: StaffRequest, scope: Scope, today: date) -> tuple[Any, str, int | None]:
    show = request.GET.get("show", "attention")
    if show not in ("attention", "all"):
        show = "attention"
    qs = Authorization.objects.in_scope(scope)
    clinic_id: int | None = None
    raw = request.GET.get("clinic", "")
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        clinic_id = int(raw)
        qs = qs.filter(clinic_id=clinic_id)
    return selectors.listing(qs, show=show, today=today), show, clinic_id


def _row(a: Authorization, today: date) -> dict[str, Any]:
    state = selectors.state_of(a, today, getattr(a, "plan_units", None))
    reasons = []
    if state.expiring:
        reasons.append(f"expires in {state.days_left} day{'s' if state.days_left != 1 else ''}")
    if state.status == AuthStatus.APPROVED and state.units_left is not None:
        plan = getattr(a, "plan_units", None)
        if plan is not None and state.units_left < plan:
            reasons.append(
                f"{float(state.units_left):g} units left, the plan needs {float(plan):g}"
            )
        elif state.units_left <= 0:
            reasons.append("no units left")
    if (
        state.status == AuthStatus.APPROVED
        and state.visits_left is not None
        and state.visits_left <= 0
    ):
        reasons.append("no visits left")
    return {"s": state, "a": a, "plan_units": getattr(a, "plan_units", None), "reasons": reasons}


@staff_view(Perm.AUTHORIZATION_VIEW)
@require_GET
def authorization_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    today = timezone.localdate()
    qs, show, clinic_id = _list_qs(request, scope, today)
    try:
        page = keyset_page(
            qs,
            fields=selectors.LIST_ORDER,
            cursor=request.GET.get("cursor") or None,
            size=LIST_PAGE,
        )
    except BadCursor:
        page = keyset_page(qs, fields=selectors.LIST_ORDER, cursor=None, size=LIST_PAGE)
    rows = [_row(a, today) for a in page.items]
    services.record_list_view(actor=request.user, practice_id=scope.practice_id, rows=len(rows))
    chart = units_chart(
        [
            {
                "label": f"{r['a'].patient.last_name}, {r['a'].patient.first_name} · {r['s'].indication_label}",
                "used": r["s"].units_used,
                "left": r["s"].units_left,
                "until": f"{r['a'].valid_until:%Y-%m-%d}" if r["a"].valid_until else "",
            }
            for r in rows
            if r["s"].units_left is not None
        ]
    )
    query = f"show={show}" + (f"&clinic={clinic_id}" if clinic_id else "")
    return render(
        request,
        "authorizations/list.html",
        {
            "rows": rows,
            "page": page,
            "show": show,
            "clinic_id": clinic_id,
            "clinics": _clinics(scope),
            "chart": chart,
            "query": query,
            "warn_days": selectors.EXPIRY_WARNING_DAYS,
            "export_url": reverse("authorizations:export") + "?" + query,
        },
    )


@staff_view(Perm.AUTHORIZATION_VIEW)
@require_GET
def export(request: StaffRequest, scope: Scope) -> HttpResponse:
    today = timezone.localdate()
    qs, show, _ = _list_qs(request, scope, today)
    items = list(qs.order_by(*selectors.LIST_ORDER)[:EXPORT_MAX])
    out = io.StringIO()
    w = csvexport.writer(out)
    w.writerow(
        [
            "Patient",
            "MRN",
            "Clinic",
            "Condition",
            "Payer",
            "Payer ID",
            "Authorization number",
            "Status",
            "Valid from",
            "Valid until",
            "Days left",
            "Units approved",
            "Units used",
            "Units left",
            "Plan units",
            "Visits approved",
            "Visits used",
            "Visits left",
            "Attention",
        ]
    )
    for a in items:
        r = _row(a, today)
        s = r["s"]
        w.writerow(
            [
                f"{a.patient.last_name}, {a.patient.first_name}",
                a.patient.mrn,
                a.clinic.name,
                s.indication_label,
                a.payer_name,
                a.payer_id,
                a.number,
                s.status_label,
                a.valid_from.isoformat() if a.valid_from else "",
                a.valid_until.isoformat() if a.valid_until else "",
                "" if s.days_left is None else s.days_left,
                "" if a.units_approved is None else a.units_approved,
                float(s.units_used),
                "" if s.units_left is None else float(s.units_left),
                "" if r["plan_units"] is None else float(r["plan_units"]),
                "" if a.visits_approved is None else a.visits_approved,
                s.visits_used,
                "" if s.visits_left is None else s.visits_left,
                "; ".join(r["reasons"]),
            ]
        )
    services.record_export(
        actor=request.user,
        practice_id=scope.practice_id,
        rows=len(items),
        what=f"authorizations ({show})",
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="authorizations-{show}-{today}.csv"'
    return response
