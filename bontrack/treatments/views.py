"""Staff screens: the chart panel, the session charting screen, the procedure note (HTML and PDF)."""

from __future__ import annotations

import contextlib
import zoneinfo
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.core.forms import apply_service_errors
from bontrack.core.htmx import render_page
from bontrack.core.pagination import BadCursor, Page, keyset_page
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Vial
from bontrack.patients.models import Patient, PatientFlag
from bontrack.treatments import facts, headmap, services
from bontrack.treatments.choices import AdverseEffectStatus, DecisionKind, InjectionStatus
from bontrack.treatments.forms import (
    AddSiteForm,
    AdverseEffectForm,
    AmendForm,
    DecisionForm,
    DetailsForm,
    PlanForm,
    ResolveForm,
    ReviewForm,
    SiteForm,
    VialForm,
)
from bontrack.treatments.models import (
    AdverseEffect,
    Injection,
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
)

PANEL_SESSIONS = 10
STOCK_CHOICES = 50


def _patient(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


def _session(scope: Scope, sid: int) -> TreatmentSession:
    return get_object_or_404(
        TreatmentSession.objects.in_scope(scope).select_related(
            "patient", "patient__clinic", "clinic", "signed_by", "amends", "plan"
        ),
        pk=sid,
    )


def _zone(session: TreatmentSession) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(session.clinic.time_zone)


def _muscle_choices() -> list[tuple[str, str]]:
    labels = facts.muscle_labels()
    return [(m, labels[m]) for m in facts.ftp_limits()["muscles"]]


def _annotate(findings: list[dict[str, Any]], decisions: list[Any]) -> list[dict[str, Any]]:
    """Each finding with the decision that still covers it (a changed warning needs a new one)."""
    out = []
    for f in findings:
        kind = DecisionKind.OVERRIDE if f["severity"] == "block" else DecisionKind.ACKNOWLEDGE
        decision = next(
            (d for d in decisions if d.kind == kind and services.decision_covers(d, f, findings)),
            None,
        )
        stale = decision is None and any(
            d.kind == kind and d.rule_id == f["rule_id"] for d in decisions
        )
        out.append({**f, "decision": decision, "stale": stale})
    return out


def _groups(injections: list[Injection]) -> list[dict[str, Any]]:
    labels = facts.muscle_labels()
    groups: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
    for inj in injections:
        g = groups.setdefault(
            (inj.muscle, inj.side),
            {
                "muscle": inj.muscle,
                "label": labels.get(inj.muscle, inj.muscle),
                "side": inj.side,
                "rows": [],
                "done_sites": 0,
                "sites": 0,
                "units": Decimal(0),
            },
        )
        g["rows"].append(inj)
        g["sites"] += inj.sites
        if inj.status == InjectionStatus.DONE:
            g["done_sites"] += inj.sites
            g["units"] += inj.units
    return list(groups.values())


def _concentration(vial: Vial) -> Any:
    from clinic_rules import contract

    try:
        return contract.run(
            "reconstitution",
            {"size_units": vial.lot.size_units, "diluent_ml": float(vial.diluent_ml or 0)},
        )
    except contract.InputError:
        return None


def session_context(
    request: HttpRequest,
    session: TreatmentSession,
    *,
    result: dict[str, Any] | None = None,
    site_form: forms.Form | None = None,
    site: Injection | None = None,
    blocked: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    injections = list(session.injections.all())
    vials = services.session_vials(session)
    decisions = list(session.decisions.select_related("decided_by"))
    result = result or services.current_findings(session)
    findings = _annotate(list(result.get("findings", [])), decisions)
    user = request.user
    clinic_id = session.patient.clinic_id
    is_draft = session.status == "draft"
    can_chart = is_draft and user.has_clinic_perm(Perm.SESSION_CHART, clinic_id)
    stock: list[Vial] = []
    if can_chart:
        stock = list(
            Vial.objects.filter(
                clinic_id=session.clinic_id,
                status=VialStatus.IN_STOCK,
                lot__expiry__gte=timezone.localdate(timezone.now(), _zone(session)),
            )
            .select_related("lot")
            .order_by("lot__expiry", "id")[:STOCK_CHOICES]
        )
    effects = list(
        AdverseEffect.objects.filter(patient_id=session.patient_id, status=AdverseEffectStatus.OPEN)
        .select_related("session")
        .order_by("-reported_at")
    )
    flags = list(PatientFlag.objects.filter(patient_id=session.patient_id, active=True))
    units_done = sum((i.units for i in injections if i.status == InjectionStatus.DONE), Decimal(0))
    ctx: dict[str, Any] = {
        "session": session,
        "patient": session.patient,
        "injections": injections,
        "groups": _groups(injections),
        "map": headmap.layout(injections),
        "views": headmap.VIEWS,
        "vials": [{"vial": v, "conc": _concentration(v)} for v in vials],
        "stock": stock,
        "findings": findings,
        "totals": result.get("totals", {}),
        "rule_set": result.get("rule_set", ""),
        "decisions": decisions,
        "effects": effects,
        "flags": flags,
        "units_done": units_done,
        "sites_done": sum(i.sites for i in injections if i.status == InjectionStatus.DONE),
        "is_draft": is_draft,
        "can_chart": can_chart,
        "can_sign": is_draft and user.has_clinic_perm(Perm.SESSION_SIGN, clinic_id),
        "can_override": is_draft and user.has_clinic_perm(Perm.SESSION_OVERRIDE_BLOCK, clinic_id),
        "can_amend": session.status == "signed"
        and user.has_clinic_perm(Perm.SESSION_SIGN, clinic_id),
        "blocked": blocked,
        "site": site,
        "site_form": site_form,
        "add_form": extra.pop("add_form", None) or AddSiteForm(muscles=_muscle_choices()),
        "details_form": extra.pop("details_form", None)
        or DetailsForm(
            initial={
                "performed_at": session.performed_at,
                "consent_obtained": session.consent_obtained,
                "medication_guide_offered": session.medication_guide_offered,
                "diluent": session.diluent,
                "note": session.note,
            }
        ),
        "vial_form": extra.pop("vial_form", None)
        or VialForm(
            vials=[(v.pk, _vial_label(v)) for v in stock],
            initial={
                "reconstituted_at": min(timezone.now(), session.performed_at),
                "diluent_ml": _default_diluent(stock),
            },
        ),
        "amend_form": extra.pop("amend_form", None) or AmendForm(),
        "effect_form": AdverseEffectForm(auto_id="ae-%s"),
        "can_record_effect": session.status != "draft"
        and user.has_clinic_perm(Perm.SESSION_CHART, clinic_id),
        "sign_errors": extra.pop("sign_errors", None),
        "next_due": services.next_due(session) if session.status == "signed" else None,
        "checkin": services.checkin_window(session) if session.status == "signed" else None,
        "per_site": facts.units_per_site(),
    }
    ctx.update(extra)
    return ctx


def _vial_label(v: Vial) -> str:
    return (
        f"Lot {v.lot.lot_number} · exp {v.lot.expiry:%Y-%m-%d} · {v.lot.size_units} U (vial {v.pk})"
    )


def _default_diluent(stock: list[Vial]) -> Decimal | None:
    """The chronic migraine dilution for the first stocked vial's size."""
    return facts.cm_diluent_ml(stock[0].lot.size_units) if stock else None


def _render(
    request: HttpRequest, session: TreatmentSession, ctx: dict[str, Any], status: int = 200
):
    with timezone.override(_zone(session)):
        return render_page(
            request, "treatments/session.html", ctx, fragment="workspace", status=status
        )


# ---- chart panel ------------------------------------------------------------------------------


@staff_view(Perm.PATIENT_VIEW)
@require_GET
def panel(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = _patient(scope, pk)
    if not request.user.has_clinic_perm(Perm.SESSION_VIEW, patient.clinic_id):
        return HttpResponse("")
    page = _session_page(patient, None)
    sessions = page.items
    session_count = TreatmentSession.objects.filter(patient=patient).count()
    last_signed = next((s for s in sessions if s.status == "signed"), None)
    if last_signed is None:
        last_signed = (
            TreatmentSession.objects.current()
            .filter(patient=patient)
            .select_related("clinic")
            .order_by("-performed_at")
            .first()
        )
    effects = list(
        AdverseEffect.objects.filter(patient=patient)
        .select_related("session", "session__clinic")
        .order_by("-reported_at")[:10]
    )
    plan = (
        TreatmentPlan.objects.filter(patient=patient, active=True).prefetch_related("lines").first()
    )
    reviews = list(ResponseReview.objects.filter(patient=patient).select_related("reviewed_by")[:5])
    cycles = services.signed_cycles(patient)
    response = facts.run_response(patient, timezone.localdate()) if cycles else None
    can_review = cycles >= facts.review_min_cycles() and request.user.has_clinic_perm(
        Perm.RESPONSE_REVIEW, patient.clinic_id
    )
    draft = next((s for s in sessions if s.status == "draft" and not s.amends_id), None)
    services.record_view(actor=request.user, patient=patient, what="treatment panel")
    context = {
        "patient": patient,
        "sessions": sessions,
        "session_count": session_count,
        "last_signed": last_signed,
        "next_due": services.next_due(last_signed) if last_signed else None,
        "checkin": services.checkin_window(last_signed) if last_signed else None,
        "effects": effects,
        "open_effects": [e for e in effects if e.status == AdverseEffectStatus.OPEN],
        "plan": plan,
        "plan_units": sum((ln.units for ln in plan.lines.all()), Decimal(0)) if plan else None,
        "plan_sites": sum(ln.sites for ln in plan.lines.all()) if plan else None,
        "response": response,
        "cycles": cycles,
        "reviews": reviews,
        "can_review": can_review,
        "review_form": ReviewForm(muscles=_muscle_choices()),
        "can_chart": request.user.has_clinic_perm(Perm.SESSION_CHART, patient.clinic_id),
        "draft": draft,
        "next_cursor": page.next_cursor,
        "effect_form": AdverseEffectForm(auto_id="ae-%s"),
        "plan_form": PlanForm(muscles=_muscle_choices(), auto_id="plan-%s"),
    }
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        return render(request, "treatments/panel.html", context)


def _session_page(patient: Patient, cursor: str | None) -> Page:
    return keyset_page(
        TreatmentSession.objects.filter(patient=patient).select_related(
            "clinic", "signed_by", "amends"
        ),
        fields=("performed_at", "id"),
        cursor=cursor,
        size=PANEL_SESSIONS,
        descending=True,
    )


@staff_view(Perm.SESSION_VIEW)
@require_GET
def older_sessions(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """The next page of the panel's session table (keyset: ``?cursor=`` from the last page)."""
    patient = _patient(scope, pk)
    try:
        page = _session_page(patient, request.GET.get("cursor") or None)
    except BadCursor:
        return HttpResponse("The page cursor is not valid.", status=400)
    services.record_view(actor=request.user, patient=patient, what="older treatment sessions")
    with timezone.override(zoneinfo.ZoneInfo(patient.clinic.time_zone)):
        return render(
            request,
            "treatments/panel.html#session_rows",
            {"patient": patient, "sessions": page.items, "next_cursor": page.next_cursor},
        )


@staff_view(Perm.SESSION_CHART)
@require_POST
def plan_new(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """A new active plan from the last one (or PREEMPT) with a follow-the-pain addition."""
    patient = _patient(scope, pk)
    form = PlanForm(request.POST, muscles=_muscle_choices(), auto_id="plan-%s")
    if form.is_valid():
        try:
            services.create_plan(
                actor=request.user,
                patient=patient,
                additions=form.additions(),
                note=form.cleaned_data["note"],
            )
        except (ValidationError, services.Conflict) as exc:
            _plan_errors(form, exc)
        else:
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request, "treatments/plan_form.html", {"patient": patient, "form": form}, status=422
    )


def _plan_errors(form: forms.Form, exc: Exception) -> None:
    """Service errors name ``additions.0.<field>``: show them on the form's field."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = key.rsplit(".", 1)[-1]
            form.add_error(field if field in form.fields else None, errors)
    else:
        apply_service_errors(form, exc)


@staff_view(Perm.RESPONSE_REVIEW)
@require_POST
def review(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = _patient(scope, pk)
    form = ReviewForm(request.POST, muscles=_muscle_choices())
    if form.is_valid():
        try:
            services.record_response_review(
                actor=request.user,
                patient=patient,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                adjustments=form.adjustments(),
            )
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("patients:chart", pk=patient.pk)
    return render(
        request,
        "treatments/review_form.html",
        {"patient": patient, "review_form": form},
        status=422,
    )


# ---- sessions ------------------------------------------------------------------------------------


@staff_view(Perm.SESSION_CHART)
@require_POST
def session_new(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    patient = _patient(scope, pk)
    try:
        session = services.create_session(actor=request.user, patient=patient)
    except services.Conflict:
        draft = TreatmentSession.objects.filter(
            patient=patient, status="draft", amends__isnull=True
        ).first()
        if draft is None:
            raise
        return redirect("treatments:session", sid=draft.pk)
    return redirect("treatments:session", sid=session.pk)


@staff_view(Perm.SESSION_VIEW)
@require_GET
def session_detail(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    services.record_view(actor=request.user, patient=session.patient, what=f"session {session.pk}")
    return _render(request, session, session_context(request, session))


def _site(session: TreatmentSession, iid: int) -> Injection:
    return get_object_or_404(Injection, pk=iid, session=session)


@staff_view(Perm.SESSION_VIEW)
@require_GET
def site_editor(request: HttpRequest, sid: int, iid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    site = _site(session, iid)
    services.record_view(
        actor=request.user, patient=session.patient, what=f"session {session.pk} site {site.pk}"
    )
    form = SiteForm(initial={"units": site.units, "status": site.status})
    ctx = session_context(request, session, site=site, site_form=form)
    with timezone.override(_zone(session)):
        if request.htmx:
            return render(request, "treatments/session.html#editor", ctx)
        return render(request, "treatments/session.html", ctx)


@staff_view(Perm.SESSION_CHART)
@require_POST
def site_update(request: HttpRequest, sid: int, iid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    site = _site(session, iid)
    form = SiteForm(request.POST)
    if form.is_valid():
        try:
            services.update_injection(
                actor=request.user,
                injection=site,
                units=form.cleaned_data["units"],
                status=form.cleaned_data["status"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except services.Blocked as exc:
            form.add_error(None, "Not saved: a blocking finding needs a physician override.")
            site.units, site.status = form.cleaned_data["units"], form.cleaned_data["status"]
            ctx = session_context(
                request, session, result=exc.result, site=site, site_form=form, blocked=True
            )
            return _render(request, session, ctx, status=422)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            session = _session(scope, sid)
            site = _site(session, iid)
            fresh = SiteForm(initial={"units": site.units, "status": site.status})
            return _render(
                request,
                session,
                session_context(request, session, site=site, site_form=fresh, saved=True),
            )
    ctx = session_context(request, session, site=site, site_form=form)
    return _render(request, session, ctx, status=422)


@staff_view(Perm.SESSION_CHART)
@require_POST
def site_add(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    form = AddSiteForm(request.POST, muscles=_muscle_choices())
    if form.is_valid():
        try:
            services.add_injection(
                actor=request.user,
                session=session,
                muscle=form.cleaned_data["muscle"],
                side=form.cleaned_data["side"],
                units=form.cleaned_data["units"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except services.Blocked as exc:
            form.add_error(None, "Not saved: a blocking finding needs a physician override.")
            ctx = session_context(request, session, result=exc.result, add_form=form, blocked=True)
            return _render(request, session, ctx, status=422)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return _render(request, session, session_context(request, _session(scope, sid)))
    return _render(request, session, session_context(request, session, add_form=form), status=422)


@staff_view(Perm.SESSION_CHART)
@require_POST
def site_remove(request: HttpRequest, sid: int, iid: int, scope: Scope) -> HttpResponse:
    """Remove a follow-the-pain addition from a draft (template sites are skipped instead)."""
    session = _session(scope, sid)
    site = _site(session, iid)
    try:
        services.remove_injection(actor=request.user, injection=site)
    except services.Blocked as exc:
        ctx = session_context(request, session, result=exc.result, blocked=True, site=site)
        return _render(request, session, ctx, status=422)
    except (ValidationError, services.Conflict) as exc:
        errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        ctx = session_context(request, session, site=site, remove_errors=errors)
        return _render(
            request, session, ctx, status=422 if isinstance(exc, ValidationError) else 409
        )
    return _render(request, session, session_context(request, _session(scope, sid), saved=True))


@staff_view(Perm.SESSION_CHART)
@require_POST
def details_update(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    with timezone.override(_zone(session)):
        form = DetailsForm(request.POST)
        valid = form.is_valid()
    if valid:
        try:
            services.update_session(actor=request.user, session=session, **form.cleaned_data)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return _render(request, session, session_context(request, _session(scope, sid)))
    return _render(
        request, session, session_context(request, session, details_form=form), status=422
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def vial_open(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    stock = Vial.objects.filter(
        clinic_id=session.clinic_id, status=VialStatus.IN_STOCK
    ).select_related("lot")
    with timezone.override(_zone(session)):
        form = VialForm(request.POST, vials=[(v.pk, _vial_label(v)) for v in stock[:STOCK_CHOICES]])
        valid = form.is_valid()
    if valid:
        try:
            services.open_vial(
                actor=request.user,
                session=session,
                vial=stock.get(pk=form.cleaned_data["vial_id"]),
                diluent_ml=form.cleaned_data["diluent_ml"],
                reconstituted_at=form.cleaned_data["reconstituted_at"],
            )
        except services.Blocked as exc:
            form.add_error(None, "Not saved: a blocking finding needs a physician override.")
            ctx = session_context(request, session, result=exc.result, vial_form=form, blocked=True)
            return _render(request, session, ctx, status=422)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return _render(request, session, session_context(request, _session(scope, sid)))
    return _render(request, session, session_context(request, session, vial_form=form), status=422)


@staff_view(Perm.SESSION_CHART)
@require_POST
def decide(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    form = DecisionForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            services.decide_finding(
                actor=request.user,
                session=session,
                rule_id=form.cleaned_data["rule_id"],
                reason=form.cleaned_data["reason"],
                acknowledged=form.cleaned_data["ack"],
            )
        except PermissionDenied:
            raise
        except (ValidationError, services.Conflict) as exc:
            errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        else:
            return _render(request, session, session_context(request, _session(scope, sid)))
    else:
        errors = ["Choose a finding."]
    ctx = session_context(request, session, decision_errors=errors)
    return _render(request, session, ctx, status=422)


@staff_view(Perm.SESSION_SIGN)
@require_POST
def sign(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    try:
        services.sign_session(actor=request.user, session=session)
    except (ValidationError, services.Conflict) as exc:
        errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        ctx = session_context(request, session, sign_errors=errors)
        return _render(request, session, ctx, status=422)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"/treatments/sessions/{session.pk}/"
        return response
    return redirect("treatments:session", sid=session.pk)


@staff_view(Perm.SESSION_SIGN)
@require_POST
def amend(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    form = AmendForm(request.POST)
    if form.is_valid():
        try:
            amendment = services.amend_session(
                actor=request.user, session=session, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("treatments:session", sid=amendment.pk)
    ctx = session_context(request, session, amend_form=form)
    return _render(request, session, ctx, status=422)


# ---- procedure note ------------------------------------------------------------------------------


def note_context(session: TreatmentSession) -> dict[str, Any]:
    injections = list(session.injections.all())
    vials = services.session_vials(session)
    decisions = list(session.decisions.select_related("decided_by"))
    result = services.current_findings(session)
    return {
        "session": session,
        "patient": session.patient,
        "groups": _groups(injections),
        "injections": injections,
        "map": headmap.layout(injections),
        "views": headmap.VIEWS,
        "vials": [{"vial": v, "conc": _concentration(v)} for v in vials],
        "findings": _annotate(list(result.get("findings", [])), decisions),
        "decisions": decisions,
        "totals": result.get("totals", {}),
        "rule_set": result.get("rule_set", "") if session.status == "draft" else session.rule_set,
        "units_done": sum(
            (i.units for i in injections if i.status == InjectionStatus.DONE), Decimal(0)
        ),
        "sites_done": sum(i.sites for i in injections if i.status == InjectionStatus.DONE),
        "next_due": services.next_due(session) if session.status != "draft" else None,
    }


@staff_view(Perm.SESSION_VIEW)
@require_GET
def note_html(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    services.record_view(actor=request.user, patient=session.patient, what=f"procedure note {sid}")
    with timezone.override(_zone(session)):
        return render(request, "treatments/note.html", note_context(session))


@staff_view(Perm.SESSION_VIEW)
@require_GET
def note_pdf(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    from bontrack.treatments.pdf import procedure_note_pdf

    session = _session(scope, sid)
    services.record_view(
        actor=request.user, patient=session.patient, what=f"procedure note PDF {sid}"
    )
    with timezone.override(_zone(session)):
        data = procedure_note_pdf(note_context(session))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="procedure-note-{session.pk}.pdf"'
    return response


# ---- adverse effects -------------------------------------------------------------------------------


@staff_view(Perm.SESSION_CHART)
@require_POST
def effect_add(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = _session(scope, sid)
    form = AdverseEffectForm(request.POST)
    if form.is_valid():
        try:
            services.record_adverse_effect(actor=request.user, session=session, **form.cleaned_data)
        except (ValidationError, services.Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("patients:chart", pk=session.patient_id)
    return render(
        request,
        "treatments/effect_form.html",
        {"session": session, "form": form},
        status=422,
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def effect_resolve(request: HttpRequest, eid: int, scope: Scope) -> HttpResponse:
    effect = get_object_or_404(AdverseEffect.objects.in_scope(scope), pk=eid)
    form = ResolveForm(request.POST)
    resolution = form.cleaned_data["resolution"] if form.is_valid() else ""
    with contextlib.suppress(services.Conflict):  # already resolved: show the current state
        services.resolve_adverse_effect(actor=request.user, effect=effect, resolution=resolution)
    return redirect("patients:chart", pk=effect.patient_id)
