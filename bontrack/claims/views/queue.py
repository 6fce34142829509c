"""The billing work queue, a claim's review screen (lines, edits with a reason, insurance) and
the payer's answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope, User
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.claims import facts, registration, selectors
from bontrack.claims.actions import payer, review
from bontrack.claims.choices import QUEUE_STATES, ClaimStatus, Guidance
from bontrack.claims.codes import modifiers_text, ndc_display
from bontrack.claims.forms import (
    AcceptForm,
    CoverageForm,
    DeniedForm,
    LineForm,
    PaidForm,
    RefreshForm,
)
from bontrack.claims.models import Claim, ClaimLine, Coverage
from bontrack.core.errors import Conflict
from bontrack.core.forms import StrictForm, apply_service_errors
from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor
from bontrack.core.parsing import BadQuery, query_date, query_int
from bontrack.patients.choices import Indication


def clinics_of(scope: Scope) -> list[Clinic]:
    qs = Clinic.objects.filter(practice_id=scope.practice_id)
    return list(qs if scope.all_clinics else qs.filter(pk__in=scope.clinic_ids))


def _filters(request: StaffRequest, scope: Scope) -> selectors.QueueFilters:
    state = request.GET.get("state") or ClaimStatus.READY
    if state not in {s.value for s in QUEUE_STATES}:
        raise Http404("No such queue.")
    try:
        clinic = query_int(request, "clinic")
        start = query_date(request, "from")
        end = query_date(request, "to")
    except BadQuery as exc:
        raise Http404(str(exc)) from exc
    if clinic is not None and clinic not in {c.pk for c in clinics_of(scope)}:
        raise Http404("No such clinic.")
    indication = request.GET.get("indication", "")
    if indication not in Indication.values:
        indication = ""
    q = (request.GET.get("q") or "").strip()[:40]
    return selectors.QueueFilters(state, clinic, indication, start, end, q)


def _query(f: selectors.QueueFilters, **over: Any) -> str:
    from urllib.parse import urlencode

    values = {
        "state": f.state,
        "clinic": f.clinic_id or "",
        "indication": f.indication,
        "from": f.start.isoformat() if f.start else "",
        "to": f.end.isoformat() if f.end else "",
        "q": f.q,
    }
    values.update(over)
    return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def queue(request: StaffRequest, scope: Scope) -> HttpResponse:
    f = _filters(request, scope)
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.queue(scope, f, cursor)
    except BadCursor as exc:
        raise Http404 from exc
    counts = selectors.counts(scope, f)
    audit.record(
        actor=request.user,
        action="view",
        object_type="claims.queue",
        practice_id=scope.practice_id,
        summary=f"Viewed the claims queue ({ClaimStatus(f.state).label}, {len(page.items)} claims)",
    )
    tabs = [
        {
            "state": s.value,
            "label": s.label,
            "count": counts[s.value],
            "href": "?" + _query(f, state=s.value),
            "current": s.value == f.state,
        }
        for s in QUEUE_STATES
    ]
    return render(
        request,
        "claims/queue.html",
        {
            "page": page,
            "cursor": cursor,
            "filters": f,
            "tabs": tabs,
            "state_label": ClaimStatus(f.state).label,
            "clinics": clinics_of(scope),
            "indications": Indication.choices,
            "next_href": "?" + _query(f, cursor=page.next_cursor) if page.next_cursor else "",
            "first_href": "?" + _query(f) if cursor else "",
            "can_export": request.user.scope(Perm.CLAIM_EXPORT) is not None,
            "can_setup": request.user.scope(Perm.CLAIM_SETUP) is not None,
            "labels": {c: facts.indication_label(c) for c in Indication.values},
        },
    )


def line_rows(claim: Claim) -> list[dict[str, Any]]:
    dx = list(claim.diagnoses)
    out = []
    for line in claim.lines.all():
        out.append(
            {
                "line": line,
                "modifiers": modifiers_text(line.modifiers),
                "pointers": ", ".join(str(dx.index(c) + 1) for c in line.icd10 if c in dx),
                "ndc": ndc_display(line.ndc) if line.ndc else "",
                "what": facts.line_description(line.code, line.modifiers),
            }
        )
    return out


def _detail(
    request: StaffRequest,
    claim: Claim,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
    errors: list[str] | None = None,
) -> HttpResponse:
    can_edit = claim.editable and request.user.has_clinic_perm(Perm.CLAIM_EDIT, claim.clinic_id)
    can_answer = claim.status == ClaimStatus.EXPORTED and request.user.has_clinic_perm(
        Perm.CLAIM_EXPORT, claim.clinic_id
    )
    coverage = Coverage.objects.filter(patient_id=claim.patient_id).first()
    forms = forms or {}
    ctx: dict[str, Any] = {
        "claim": claim,
        "patient": claim.patient,
        "rows": line_rows(claim),
        "notes": [f for f in claim.findings if f.get("severity") == "info"],
        "edits": list(claim.edits.select_related("by", "line")[:50]),
        "coverage": coverage,
        "coverage_drift": registration.drift(coverage, claim.patient),
        "can_edit": can_edit,
        "can_answer": can_answer,
        "errors": errors or [],
        "labels": [facts.indication_label(i) for i in claim.indications],
        "diagnoses": [(n + 1, c) for n, c in enumerate(claim.diagnoses)],
        "totals": claim.totals,
        "guidance_label": Guidance(claim.guidance).label,
    }
    if can_edit:
        ctx["refresh_form"] = forms.get("refresh") or RefreshForm(
            initial={"guidance": claim.guidance}
        )
        ctx["accept_form"] = forms.get("accept") or AcceptForm()
    if can_answer:
        ctx["paid_form"] = forms.get("paid") or PaidForm()
        ctx["denied_form"] = forms.get("denied") or DeniedForm()
    return render(request, "claims/claim.html", ctx, status=status)


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def claim_detail(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    claim = selectors.claim_in_scope(scope, pk)
    audit.record(
        actor=request.user,
        action="view",
        obj=claim,
        patient_id=claim.patient_id,
        practice_id=claim.clinic.practice_id,
        summary=f"Viewed claim {claim.pk}",
    )
    return _detail(request, claim)


def _edit_claim(scope: Scope, pk: int) -> Claim:
    return selectors.claim_in_scope(scope, pk)


@staff_view(Perm.CLAIM_EDIT)
@require_http_methods(["GET", "POST"])
def edit_line(request: StaffRequest, pk: int, line_id: int, scope: Scope) -> HttpResponse:
    claim = _edit_claim(scope, pk)
    line = get_object_or_404(ClaimLine, claim=claim, pk=line_id)
    status = 200
    if request.method == "POST":
        form = LineForm(request.POST, diagnoses=list(claim.diagnoses))
        if form.is_valid():
            d = form.cleaned_data
            try:
                review.edit_line(
                    actor=request.user,
                    claim=claim,
                    line_id=line.pk,
                    reason=d["reason"],
                    code=d["code"],
                    modifiers=d["modifiers"],
                    units=d["units"],
                    icd10=list(d["icd10"]),
                    charge=d["charge"],
                )
            except (ValidationError, Conflict) as exc:
                apply_service_errors(form, exc)
                status = 409 if isinstance(exc, Conflict) else 422
            else:
                messages.success(request, f"Line {line.position + 1} changed; the reason is kept.")
                return redirect("claims:claim", pk=claim.pk)
        else:
            status = 422
    else:
        if not claim.editable:
            raise Http404("This claim can no longer be changed.")
        form = LineForm(
            initial={
                "code": line.code,
                "modifiers": modifiers_text(line.modifiers),
                "units": line.units,
                "icd10": line.icd10,
                "charge": line.charge,
            },
            diagnoses=list(claim.diagnoses),
        )
    return render(
        request,
        "claims/line_form.html",
        {"claim": claim, "line": line, "form": form, "patient": claim.patient},
        status=status,
    )


@staff_view(Perm.CLAIM_EDIT)
@require_POST
def refresh(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    claim = _edit_claim(scope, pk)
    form = RefreshForm(request.POST)
    if form.is_valid():
        try:
            claim = review.refresh_lines(
                actor=request.user,
                claim=claim,
                guidance=form.cleaned_data["guidance"],
                reason=form.cleaned_data["reason"],
            )
        except Conflict as exc:
            return _detail(request, claim, errors=[str(exc)], status=409)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Lines refreshed from the signed session: "
                + (
                    "ready to export."
                    if claim.status == ClaimStatus.READY
                    else "still needs attention."
                ),
            )
            return redirect("claims:claim", pk=claim.pk)
    return _detail(request, claim, forms={"refresh": form}, status=422)


@staff_view(Perm.CLAIM_EDIT)
@require_POST
def accept(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    claim = _edit_claim(scope, pk)
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            review.accept(actor=request.user, claim=claim, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Claim accepted: it is ready to export.")
            return redirect("claims:claim", pk=claim.pk)
    return _detail(request, claim, forms={"accept": form}, status=422)


def _coverage_form(claim: Claim, coverage: Coverage | None, data: Any = None) -> CoverageForm:
    """The insurance form: the coverage billing keeps, or (none yet) the registration's values;
    each registration-filled field says where its value came from."""
    patient = claim.patient
    reg = registration.values(patient)
    if data is not None:
        form = CoverageForm(data)
    elif coverage is not None:
        form = CoverageForm(initial={k: getattr(coverage, k) for k in review.COVERAGE_FIELDS})
    else:
        form = CoverageForm(initial=reg)
    came = registration.sources(coverage, patient)
    for name, from_reg in came.items():
        if from_reg:
            form.fields[name].help_text = "From the registration."
        elif coverage is not None and getattr(coverage, name) and reg[name]:
            form.fields[
                name
            ].help_text = f"Changed by billing; the registration says “{reg[name]}”."
        elif coverage is not None and getattr(coverage, name):
            form.fields[name].help_text = "Added by billing (not in the registration)."
        else:
            form.fields[name].help_text = "Not in the registration."
    form.fields["payer_id"].help_text = "Billing's own: the payer's electronic ID."
    form.fields["filing_indicator"].help_text = "Billing's own: the claim filing indicator."
    return form


@staff_view(Perm.CLAIM_EDIT)
@require_http_methods(["GET", "POST"])
def coverage(request: StaffRequest, pk: int, scope: Scope) -> HttpResponse:
    """The patient's insurance as billing keeps it, started from the registration."""
    claim = _edit_claim(scope, pk)
    patient = claim.patient
    current = Coverage.objects.filter(patient_id=patient.pk).first()
    status = 200
    if request.method == "POST":
        form = _coverage_form(claim, current, request.POST)
        if form.is_valid():
            try:
                review.save_coverage(actor=request.user, patient=patient, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    "Insurance saved. Refresh the lines to clear the reason it needed attention."
                    if claim.status == ClaimStatus.NEEDS_ATTENTION
                    else "Insurance saved.",
                )
                return redirect("claims:claim", pk=claim.pk)
        status = 422
    else:
        audit.record(
            actor=request.user,
            action="view",
            object_type="claims.coverage",
            object_id=str(current.pk) if current else "",
            patient_id=patient.pk,
            practice_id=patient.practice_id,
            summary=f"Viewed the insurance of patient {patient.pk} (claim {claim.pk})",
        )
        form = _coverage_form(claim, current)
    return render(
        request,
        "claims/coverage.html",
        {
            "claim": claim,
            "patient": patient,
            "coverage": current,
            "form": form,
            "prefilled": current is None and registration.has_insurance(patient),
            "drift": registration.drift(current, patient),
            "editable": claim.editable,
        },
        status=status,
    )


@dataclass(frozen=True)
class PayerAnswer:
    """One answer of the payer to an exported claim: the form billing fills and the action
    (``claims/actions/payer.py``) it feeds."""

    form: type[StrictForm]
    act: Callable[[User, Claim, dict[str, Any]], Claim]
    done: str


PAYER_ANSWERS = {
    "paid": PayerAnswer(
        PaidForm,
        lambda actor, claim, d: payer.mark_paid(actor=actor, claim=claim, amount=d["paid_amount"]),
        "marked paid",
    ),
    "denied": PayerAnswer(
        DeniedForm,
        lambda actor, claim, d: payer.mark_denied(
            actor=actor, claim=claim, reason=d["denial_reason"]
        ),
        "marked denied",
    ),
}


@staff_view(Perm.CLAIM_EXPORT)
@require_POST
def payer_answer(request: StaffRequest, pk: int, scope: Scope, answer: str) -> HttpResponse:
    """Record the payer's answer (``answer``: a key of PAYER_ANSWERS, fixed by the URL)."""
    spec = PAYER_ANSWERS[answer]
    claim = _edit_claim(scope, pk)
    form = spec.form(request.POST)
    if form.is_valid():
        try:
            spec.act(request.user, claim, form.cleaned_data)
        except Conflict as exc:
            return _detail(request, claim, errors=[str(exc)], status=409)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Claim {claim.number} {spec.done}.")
            return redirect("claims:claim", pk=claim.pk)
    return _detail(request, claim, forms={answer: form}, status=422)


def queue_url(state: str) -> str:
    return f"{reverse('claims:queue')}?state={state}"
