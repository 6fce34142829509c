"""The session charting screen: sites, details, vials, decisions, signing, amendments (HTMX)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest

if TYPE_CHECKING:
    from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.errors import Conflict
from bontrack.patients import services as patient_services
from bontrack.patients.forms import WeightForm
from bontrack.patients.views import apply_service_errors
from bontrack.treatments.actions import amendments as amendments_actions
from bontrack.treatments.actions import charting as charting_actions
from bontrack.treatments.actions import common, dose_guard, findings
from bontrack.treatments.actions import signing as signing_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.actions import waste as waste_actions
from bontrack.treatments.actions.vials import chain_ids
from bontrack.treatments.forms import (
    AddSiteForm,
    AmendForm,
    DecisionForm,
    DetailsForm,
    SiteForm,
    VialForm,
    WasteForm,
)
from bontrack.treatments.models import (
    Injection,
    TreatmentSession,
    VialUse,
)
from bontrack.treatments.views.context import (
    STOCK_CHOICES,
    patient_in_scope,
    render_session,
    session_context,
    session_in_scope,
    session_zone,
    site_choices,
    split_site_choice,
    usable_stock,
    vial_label,
)

# ---- sessions ------------------------------------------------------------------------------------


@staff_view(Perm.SESSION_CHART)
@require_POST
def session_new(request: HttpRequest, pk: int, scope: Scope) -> HttpResponse:
    """Start a draft session: ``indications`` (one or several) and ``template_<indication>``."""
    patient = patient_in_scope(scope, pk)
    indications = request.POST.getlist("indications") or None
    templates = {
        ind: code
        for ind in indications or []
        if (code := request.POST.get(f"template_{ind}", "").strip())
    }
    try:
        session = charting_actions.create_session(
            actor=request.user, patient=patient, indications=indications, templates=templates
        )
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for msg in msgs:
                messages.error(request, f"The session was not started: {msg}")
        return redirect("patients:chart", pk=patient.pk)
    except Conflict:
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
    session = session_in_scope(scope, sid)
    common.record_view(actor=request.user, patient=session.patient, what=f"session {session.pk}")
    return render_session(request, session, session_context(request, session))


def _site(session: TreatmentSession, iid: int) -> Injection:
    return get_object_or_404(Injection, pk=iid, session=session)


@staff_view(Perm.SESSION_VIEW)
@require_GET
def site_editor(request: HttpRequest, sid: int, iid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    site = _site(session, iid)
    common.record_view(
        actor=request.user, patient=session.patient, what=f"session {session.pk} site {site.pk}"
    )
    form = SiteForm.for_site(site)
    ctx = session_context(request, session, site=site, site_form=form)
    with timezone.override(session_zone(session)):
        if request.htmx:
            return render(request, "treatments/session.html#editor", ctx)
        return render(request, "treatments/session.html", ctx)


@staff_view(Perm.SESSION_CHART)
@require_POST
def site_update(request: HttpRequest, sid: int, iid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    site = _site(session, iid)
    form = SiteForm(request.POST)
    if form.is_valid():
        try:
            charting_actions.update_injection(
                actor=request.user,
                injection=site,
                units=form.cleaned_data["units"],
                status=form.cleaned_data["status"],
                override_reason=form.cleaned_data["override_reason"],
                sites=form.cleaned_data["sites"],
                dilution=form.cleaned_data["dilution"],
                guidance=form.cleaned_data["guidance"],
            )
        except dose_guard.Blocked as exc:
            form.add_error(None, "Not saved: a blocking finding needs a physician override.")
            site.units, site.status = form.cleaned_data["units"], form.cleaned_data["status"]
            ctx = session_context(
                request, session, result=exc.result, site=site, site_form=form, blocked=True
            )
            return render_session(request, session, ctx, status=422)
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            session = session_in_scope(scope, sid)
            site = _site(session, iid)
            fresh = SiteForm.for_site(site)
            return render_session(
                request,
                session,
                session_context(
                    request, session, site=site, site_form=fresh, saved=True, just_checked=True
                ),
            )
    ctx = session_context(request, session, site=site, site_form=form)
    return render_session(request, session, ctx, status=422)


@staff_view(Perm.SESSION_CHART)
@require_POST
def site_add(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    form = AddSiteForm(request.POST, muscles=site_choices(session))
    if form.is_valid():
        indication, muscle = split_site_choice(form.cleaned_data["muscle"])
        try:
            charting_actions.add_injection(
                actor=request.user,
                session=session,
                indication=indication,
                muscle=muscle,
                side=form.cleaned_data["side"],
                units=form.cleaned_data["units"],
                override_reason=form.cleaned_data["override_reason"],
                sites=form.cleaned_data["sites"] or 1,
                dilution=form.cleaned_data["dilution"],
                guidance=form.cleaned_data["guidance"],
            )
        except dose_guard.Blocked as exc:
            form.add_error(None, "Not saved: a blocking finding needs a physician override.")
            ctx = session_context(request, session, result=exc.result, add_form=form, blocked=True)
            return render_session(request, session, ctx, status=422)
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return render_session(
                request,
                session,
                session_context(request, session_in_scope(scope, sid), just_checked=True),
            )
    return render_session(
        request, session, session_context(request, session, add_form=form), status=422
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def site_remove(request: HttpRequest, sid: int, iid: int, scope: Scope) -> HttpResponse:
    """Remove a follow-the-pain addition from a draft (template sites are skipped instead)."""
    session = session_in_scope(scope, sid)
    site = _site(session, iid)
    try:
        charting_actions.remove_injection(actor=request.user, injection=site)
    except dose_guard.Blocked as exc:
        ctx = session_context(request, session, result=exc.result, blocked=True, site=site)
        return render_session(request, session, ctx, status=422)
    except (ValidationError, Conflict) as exc:
        errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        ctx = session_context(request, session, site=site, remove_errors=errors)
        return render_session(
            request, session, ctx, status=422 if isinstance(exc, ValidationError) else 409
        )
    return render_session(
        request,
        session,
        session_context(request, session_in_scope(scope, sid), saved=True, just_checked=True),
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def details_update(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    with timezone.override(session_zone(session)):
        form = DetailsForm(request.POST)
        valid = form.is_valid()
    if valid:
        try:
            charting_actions.update_session(
                actor=request.user, session=session, **form.cleaned_data
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return render_session(
                request,
                session,
                session_context(request, session_in_scope(scope, sid), just_checked=True),
            )
    return render_session(
        request, session, session_context(request, session, details_form=form), status=422
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def vial_open(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    stock = usable_stock(session).select_related("lot")
    with timezone.override(session_zone(session)):
        form = VialForm(request.POST, vials=[(v.pk, vial_label(v)) for v in stock[:STOCK_CHOICES]])
        valid = form.is_valid()
    if valid:
        try:
            vials_actions.open_vial(
                actor=request.user,
                session=session,
                vial=stock.get(pk=form.cleaned_data["vial_id"]),
                diluent_ml=form.cleaned_data["diluent_ml"],
                reconstituted_at=form.cleaned_data["reconstituted_at"],
            )
        except dose_guard.Blocked as exc:
            form.add_error(None, "Not saved: a blocking finding needs a physician override.")
            ctx = session_context(request, session, result=exc.result, vial_form=form, blocked=True)
            return render_session(request, session, ctx, status=422)
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return render_session(
                request,
                session,
                session_context(request, session_in_scope(scope, sid), just_checked=True),
            )
    return render_session(
        request, session, session_context(request, session, vial_form=form), status=422
    )


@staff_view(Perm.SESSION_CHART)
@require_POST
def decide(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    form = DecisionForm(request.POST)
    errors: list[str] = []
    overriding = form.is_valid() and form.cleaned_data["reason"] and not form.cleaned_data["ack"]
    if overriding and not form.cleaned_data["confirm"]:  # an acknowledgement ticks "ack" instead
        errors = ["Tick “I confirm this override” to override the finding."]
    elif form.is_valid():
        try:
            findings.decide_finding(
                actor=request.user,
                session=session,
                rule_id=form.cleaned_data["rule_id"],
                reason=form.cleaned_data["reason"],
                acknowledged=form.cleaned_data["ack"],
            )
        except PermissionDenied:
            raise
        except (ValidationError, Conflict) as exc:
            errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        else:
            return render_session(
                request,
                session,
                session_context(request, session_in_scope(scope, sid), just_checked=True),
            )
    else:
        errors = ["Choose a finding."]
    ctx = session_context(request, session, decision_errors=errors)
    return render_session(request, session, ctx, status=422)


@staff_view(Perm.SESSION_SIGN)
@require_POST
def sign(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    if request.POST.get("confirm") != "yes":
        # The confirmation step (no script needed): what signing will do, then "Yes, sign".
        staff = cast("User", request.user)  # behind staff_view
        try:
            missing, reasons = signing_actions.signature_preview(actor=staff, session=session)
        except Conflict as exc:
            missing, reasons = {"session": [str(exc)]}, []
        if missing:
            msgs = [m for ms in missing.values() for m in ms]
            ctx = session_context(request, session, sign_errors=msgs)
            return render_session(request, session, ctx, status=422)
        ctx = session_context(request, session, confirm_sign=True, cosign_preview=reasons)
        return render_session(request, session, ctx)
    try:
        signing_actions.sign_session(actor=request.user, session=session)
    except (ValidationError, Conflict) as exc:
        errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        ctx = session_context(request, session, sign_errors=errors)
        return render_session(request, session, ctx, status=422)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"/treatments/sessions/{session.pk}/"
        return response
    return redirect("treatments:session", sid=session.pk)


@staff_view(Perm.SESSION_SIGN)
@require_POST
def amend(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    form = AmendForm(request.POST)
    if form.is_valid():
        try:
            amendment = amendments_actions.amend_session(
                actor=request.user, session=session, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("treatments:session", sid=amendment.pk)
    ctx = session_context(request, session, amend_form=form)
    return render_session(request, session, ctx, status=422)


@staff_view(Perm.PATIENT_CLINICAL_EDIT)
@require_POST
def weight_add(request: StaffRequest, sid: int, scope: Scope) -> HttpResponse:
    """Record the child's weight right on the session screen (audited by the patients service);
    the per-kg limits then count from it."""
    session = session_in_scope(scope, sid)
    with timezone.override(session_zone(session)):
        form = WeightForm(request.POST, auto_id="weight-%s")
        valid = form.is_valid()
    if valid:
        try:
            patient_services.add_weight(
                actor=request.user,
                patient=session.patient,
                measured_on=form.cleaned_data["measured_on"],
                weight_kg=form.cleaned_data["weight_kg"],
            )
        except (ValidationError, Conflict) as exc:
            apply_service_errors(form, exc)
        else:
            fresh = session_in_scope(scope, sid)
            return render_session(
                request,
                fresh,
                session_context(request, fresh, weight_saved=True),
            )
    ctx = session_context(request, session, weight_form=form)
    return render_session(request, session, ctx, status=422)


@staff_view(Perm.SESSION_CHART)
@require_POST
def vial_waste(request: StaffRequest, sid: int, vial_id: int, scope: Scope) -> HttpResponse:
    """Why a vial's unused units were wasted (reason and note); back to the session."""
    session = session_in_scope(scope, sid)
    use = get_object_or_404(
        VialUse.objects.filter(session_id__in=chain_ids([session])[session.pk]), pk=vial_id
    )
    form = WasteForm(request.POST)
    if form.is_valid():
        try:
            waste_actions.set_waste_reason(
                actor=request.user,
                use=use,
                reason=form.cleaned_data["waste_reason"],
                note=form.cleaned_data["waste_note"],
            )
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Waste reason of vial {use.vial_id} saved.")
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("treatments:session", sid=session.pk)
