"""The clinic templates page (clinic administrators and physicians) and the new-plan page."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.patients.views import apply_service_errors
from bontrack.treatments import facts
from bontrack.treatments.actions import charting as charting_actions
from bontrack.treatments.actions import common
from bontrack.treatments.actions import plans as plans_actions
from bontrack.treatments.actions import templates as template_actions
from bontrack.treatments.actions.plans import Line
from bontrack.treatments.forms import TEMPLATE_ROWS, ClinicTemplateForm, PlanForm, PlanStartForm
from bontrack.treatments.models import ClinicTemplate
from bontrack.treatments.views.context import muscle_choices, patient_in_scope

PAGE_SIZE = 20


def _clinics(scope: Scope) -> list[Clinic]:
    qs = Clinic.objects.filter(practice_id=scope.practice_id).order_by("name")
    if not scope.all_clinics:
        qs = qs.filter(pk__in=scope.clinic_ids)
    return list(qs)


def _indications() -> list[tuple[str, str]]:
    return [(c, facts.indication_label(c)) for c in facts.indication_codes()]


def _muscles(indication: str | None = None) -> list[tuple[str, Any]]:
    """Muscles grouped by indication (values ``indication|muscle``), or one indication's."""
    codes = [indication] if indication else list(facts.indication_codes())
    groups = [
        (
            facts.indication_label(c),
            [(f"{c}|{m}", label) for m, label in facts.protocol_muscle_choices(c)],
        )
        for c in codes
    ]
    return groups[0][1] if indication else groups  # type: ignore[return-value]


def line_rows(lines: list[Line], weight: facts.Weight | None = None) -> list[dict[str, Any]]:
    """Lines for display: muscle label, side, sites, units and, for a child whose weight
    counts, units per kg."""
    labels = facts.muscle_labels()
    return [
        {
            "muscle": labels.get(ln.muscle, ln.muscle),
            "side": ln.side,
            "sites": ln.sites,
            "units": ln.units,
            "per_kg": weight.per_kg(ln.units) if weight is not None and weight.pediatric else None,
            "follow_the_pain": ln.follow_the_pain,
        }
        for ln in lines
    ]


def _template_form(
    scope: Scope, data: Any = None, *, template: ClinicTemplate | None = None
) -> ClinicTemplateForm:
    initial: dict[str, Any] = {}
    rows = TEMPLATE_ROWS
    if template is not None:
        saved = template.lines
        rows = len(saved) + 4
        initial = {"name": template.name, "note": template.note}
        for i, r in enumerate(saved):
            initial |= {
                f"muscle_{i}": f"{template.indication}|{r['muscle']}",
                f"side_{i}": r["side"],
                f"sites_{i}": r["sites"],
                f"units_{i}": Decimal(str(r["units"])),
            }
    return ClinicTemplateForm(
        data,
        initial=initial,
        clinics=[(c.pk, c.name) for c in _clinics(scope)],
        indications=_indications(),
        muscles=_muscles(template.indication if template else None),
        rows=rows,
        editing=template is not None,
        auto_id="tpl-%s",
    )


def _apply_errors(form: ClinicTemplateForm, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = form.row_index(key) or (key if key in form.fields else None)
            form.add_error(field, errors)
    else:
        apply_service_errors(form, exc)


def _list_context(request: HttpRequest, scope: Scope, form: ClinicTemplateForm) -> dict[str, Any]:
    qs = ClinicTemplate.objects.in_scope(scope).filter(active=True).select_related("clinic")
    page = keyset_page(
        qs,
        fields=("id",),
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
        descending=True,
    )
    labels = facts.muscle_labels()
    rows = []
    for t in page.items:
        lines = template_actions.template_lines(t)
        rows.append(
            {
                "template": t,
                "indication": facts.indication_label(t.indication),
                "units": sum((ln.units for ln in lines), Decimal(0)),
                "sites": sum(ln.sites for ln in lines),
                "muscles": ", ".join(
                    f"{labels.get(ln.muscle, ln.muscle)} ({ln.side}) {ln.units.normalize():f} U"
                    for ln in lines
                ),
            }
        )
    return {"rows": rows, "next_cursor": page.next_cursor, "form": form}


@staff_view(Perm.TEMPLATE_MANAGE)
@require_http_methods(["GET", "POST"])
def template_list(request: StaffRequest, scope: Scope) -> HttpResponse:
    """The clinic's templates per indication, and a form for a new one."""
    form = _template_form(scope, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            clinic = next(c for c in _clinics(scope) if c.pk == form.cleaned_data["clinic"])
            try:
                template_actions.save_template(
                    actor=request.user,
                    clinic=clinic,
                    indication=form.cleaned_data["indication"],
                    name=form.cleaned_data["name"],
                    note=form.cleaned_data["note"],
                    lines=form.lines(),
                )
            except (ValidationError, Conflict) as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, "The template was saved.")
                return redirect("treatments:templates")
        status = 422
    try:
        ctx = _list_context(request, scope, form)
    except BadCursor:
        return HttpResponse("The page cursor is not valid.", status=400)
    return render(request, "treatments/templates.html", ctx, status=status)


@staff_view(Perm.TEMPLATE_MANAGE)
@require_http_methods(["GET", "POST"])
def template_edit(request: StaffRequest, tid: int, scope: Scope) -> HttpResponse:
    template = get_object_or_404(
        ClinicTemplate.objects.in_scope(scope).filter(active=True).select_related("clinic"),
        pk=tid,
    )
    form = _template_form(
        scope, request.POST if request.method == "POST" else None, template=template
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                template_actions.save_template(
                    actor=request.user,
                    clinic=template.clinic,
                    indication=template.indication,
                    name=form.cleaned_data["name"],
                    note=form.cleaned_data["note"],
                    lines=form.lines(),
                    template=template,
                )
            except (ValidationError, Conflict) as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, "The template was changed.")
                return redirect("treatments:templates")
        status = 422
    return render(
        request,
        "treatments/template_edit.html",
        {
            "template": template,
            "indication": facts.indication_label(template.indication),
            "form": form,
        },
        status=status,
    )


@staff_view(Perm.TEMPLATE_MANAGE)
@require_POST
def template_retire(request: StaffRequest, tid: int, scope: Scope) -> HttpResponse:
    template = get_object_or_404(ClinicTemplate.objects.in_scope(scope), pk=tid)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick “Retire this template” to confirm.")
        return redirect("treatments:template_edit", tid=template.pk)
    try:
        template_actions.retire_template(actor=request.user, template=template)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The template “{template.name}” was retired.")
    return redirect("treatments:templates")


# ---- the new-plan page ---------------------------------------------------------------------


@staff_view(Perm.SESSION_CHART)
@require_http_methods(["GET", "POST"])
def plan_page(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """GET: what a new plan of an indication starts from (units per muscle and side, U/kg for a
    child); POST: create it (a chronic migraine plan may add a follow-the-pain site)."""
    patient = patient_in_scope(scope, pk)
    treated = charting_actions.treated_indications(patient)
    ftp = facts.follow_the_pain_indication()
    choices = [(c, facts.indication_label(c)) for c in treated] or [
        (ftp, facts.indication_label(ftp))
    ]
    codes = [c for c, _ in choices]
    given = template_actions.last_given_dates(patient)
    default = next((c for c in codes if c in given), codes[0])
    chosen = request.POST.get("indication") or request.GET.get("indication") or default
    if chosen not in codes:
        chosen = codes[0]
    status = 200
    form = PlanStartForm(
        request.POST if request.method == "POST" else None,
        indications=choices,
        initial={"indication": chosen},
        auto_id="start-%s",
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                plans_actions.create_plan(
                    actor=request.user,
                    patient=patient,
                    indication=form.cleaned_data["indication"],
                    note=form.cleaned_data["note"],
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, f"The {facts.indication_label(chosen).lower()} plan was saved."
                )
                return redirect("patients:chart", pk=patient.pk)
        status = 422
    source, lines, _active = plans_actions.plan_start(patient, chosen)
    weight = facts.weight_on(patient, timezone.localdate())
    common.record_view(actor=request.user, patient=patient, what="new plan page")
    ctx = {
        "patient": patient,
        "choices": choices,
        "chosen": chosen,
        "chosen_label": facts.indication_label(chosen),
        "source": source,
        "lines": line_rows(lines, weight),
        "total": sum((ln.units for ln in lines), Decimal(0)),
        "total_per_kg": weight.per_kg(sum((ln.units for ln in lines), Decimal(0)))
        if weight.pediatric
        else None,
        "weight": weight,
        "form": form,
        "ftp_form": PlanForm(muscles=muscle_choices(), auto_id="plan-%s")
        if chosen == ftp
        else None,
    }
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        return render(request, "treatments/plan_page.html", ctx, status=status)
