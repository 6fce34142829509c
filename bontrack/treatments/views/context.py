"""What the session screen renders: scoped look-ups, site groups, vial choices, the session context."""

from __future__ import annotations

import zoneinfo
from collections import OrderedDict
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from bontrack.accounts.models import Scope

if TYPE_CHECKING:
    from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.core.htmx import render_page
from bontrack.inventory.choices import VialStatus, WasteReason
from bontrack.inventory.models import Vial
from bontrack.patients.forms import WeightForm
from bontrack.patients.models import Patient, PatientFlag
from bontrack.treatments import facts, maps, selectors
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import follow_up
from bontrack.treatments.choices import (
    GIVEN_STATUSES,
    AdverseEffectStatus,
    DecisionKind,
    InjectionStatus,
    SessionStatus,
)
from bontrack.treatments.forms import (
    AddSiteForm,
    AdverseEffectForm,
    AmendForm,
    DetailsForm,
    VialForm,
)
from bontrack.treatments.models import (
    AdverseEffect,
    Injection,
    TreatmentSession,
    VialUse,
)

STOCK_CHOICES = 50


def patient_in_scope(scope: Scope, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.in_scope(scope).select_related("clinic"), pk=pk)


def session_in_scope(scope: Scope, sid: int) -> TreatmentSession:
    return get_object_or_404(
        TreatmentSession.objects.in_scope(scope).select_related(
            "patient", "patient__clinic", "clinic", "signed_by", "amends", "plan"
        ),
        pk=sid,
    )


def session_zone(session: TreatmentSession) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(session.clinic.time_zone)


def session_indications(session: TreatmentSession) -> list[str]:
    return list(session.indications or [session.indication])


def site_choices(session: TreatmentSession) -> list[tuple[str, Any]]:
    """Muscles a site may be added in, per indication: a fixed protocol's follow-the-pain
    muscles, every muscle of the others. Values are ``indication|muscle``; the primary
    indication's are the plain muscle code."""
    inds = session_indications(session)
    groups: list[tuple[str, Any]] = []
    for n, ind in enumerate(inds):
        if facts.has_fixed_template(ind):
            pairs = muscle_choices()
        else:
            pairs = facts.protocol_muscle_choices(ind)
        prefix = "" if n == 0 else f"{ind}|"
        opts = [(f"{prefix}{code}", label) for code, label in pairs]
        groups.append((facts.indication_label(ind), opts))
    return groups if len(groups) > 1 else groups[0][1]


def split_site_choice(value: str) -> tuple[str | None, str]:
    """(indication or None for the primary, muscle) from a ``site_choices`` value."""
    ind, sep, muscle = value.partition("|")
    return (ind, muscle) if sep else (None, value)


def indication_totals(
    session: TreatmentSession, injections: list[Injection]
) -> list[dict[str, Any]]:
    """Units and sites done per indication, in the session's order."""
    out = []
    for ind in session_indications(session):
        rows = [i for i in injections if i.indication == ind and i.status == InjectionStatus.DONE]
        out.append(
            {
                "code": ind,
                "label": facts.indication_label(ind),
                "units": sum((i.units for i in rows), Decimal(0)),
                "sites": sum(i.sites for i in rows),
            }
        )
    return out


def limb_totals(injections: list[Injection]) -> list[dict[str, Any]]:
    """Units done per limb (a spasticity indication and a side; a bilateral row counts half on
    each side), the way the pediatric limb limits count them."""
    names = facts.limb_names()
    acc: OrderedDict[tuple[str, str], Decimal] = OrderedDict()
    for inj in injections:
        if inj.status != InjectionStatus.DONE or inj.indication not in names:
            continue
        sides = ["left", "right"] if inj.side in ("bilateral", "midline") else [inj.side]
        share = inj.units / 2 if inj.side == "bilateral" else inj.units
        for side in sides:
            acc[(inj.indication, side)] = acc.get((inj.indication, side), Decimal(0)) + share
    return [
        {"label": f"{side.capitalize()} {names[ind]}", "units": units}
        for (ind, side), units in sorted(acc.items())
    ]


def dose_panel(
    session: TreatmentSession, injections: list[Injection], totals: dict[str, Any]
) -> dict[str, Any]:
    """What the totals partial shows: per indication, per limb and in all, with U/kg beside the
    units for a child whose weight counts; the cumulative window and its limit."""
    zone = session_zone(session)
    weight = facts.weight_on(session.patient, timezone.localtime(session.performed_at, zone).date())
    per_ind = indication_totals(session, injections)
    limbs = limb_totals(injections)
    total = sum((t["units"] for t in per_ind), Decimal(0))
    for row in (*per_ind, *limbs):
        row["per_kg"] = weight.per_kg(row["units"]) if weight.pediatric else None
    return {
        "weight": weight,
        "dose_indications": per_ind,
        "dose_limbs": limbs,
        "dose_total": total,
        "dose_total_per_kg": weight.per_kg(total) if weight.pediatric else None,
        "window": totals if totals.get("window_days") else None,
    }


def muscle_choices() -> list[tuple[str, str]]:
    labels = facts.muscle_labels()
    return [(m, labels[m]) for m in facts.ftp_limits()["muscles"]]


def annotate(findings: list[dict[str, Any]], decisions: list[Any]) -> list[dict[str, Any]]:
    """Each finding with the decision that still covers it (a changed warning needs a new one)."""
    out = []
    for f in findings:
        kind = DecisionKind.OVERRIDE if f["severity"] == "block" else DecisionKind.ACKNOWLEDGE
        decision = next(
            (
                d
                for d in decisions
                if d.kind == kind and findings_actions.decision_covers(d, f, findings)
            ),
            None,
        )
        stale = decision is None and any(
            d.kind == kind and d.rule_id == f["rule_id"] for d in decisions
        )
        out.append({**f, "decision": decision, "stale": stale})
    return out


def site_groups(injections: list[Injection]) -> list[dict[str, Any]]:
    labels = facts.muscle_labels()
    groups: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
    for inj in injections:
        g = groups.setdefault(
            (inj.indication, inj.muscle, inj.side),
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


def session_maps(
    session: TreatmentSession, injections: list[Injection], *, can_chart: bool = False
) -> dict[str, Any]:
    """The injection maps of the session's indications (``treatments.maps``); on a draft the
    charting user may add a site by selecting a muscle of a clinician-built protocol."""
    inds = session_indications(session)
    targets = {}
    if can_chart:
        targets = {
            ind: ("" if n == 0 else f"{ind}|", facts.protocol_muscles(ind))
            for n, ind in enumerate(inds)
            if not facts.has_fixed_template(ind)
        }
    return maps.build(
        injections,
        inds,
        labels=facts.muscle_labels(),
        muscles={ind: facts.protocol_muscles(ind) for ind in inds},
        targets=targets,
        per_site={ind: facts.fixed_units_per_site(ind) for ind in inds},
    )


def concentration(vial: VialUse) -> Any:
    return facts.vial_concentration(vial)


def session_context(
    request: HttpRequest,
    session: TreatmentSession,
    *,
    result: dict[str, Any] | None = None,
    site_form: forms.Form | None = None,
    site: Injection | None = None,
    blocked: bool = False,
    just_checked: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    view = selectors.view_of(session, just_checked=just_checked)
    injections, vials, decisions = view.injections, view.vials, view.decisions
    result = result or view.result
    findings = annotate(list(result.get("findings", [])), decisions)
    user = request.user
    clinic_id = session.patient.clinic_id
    is_draft = session.status == "draft"
    can_chart = is_draft and user.has_clinic_perm(Perm.SESSION_CHART, clinic_id)
    stock: list[Vial] = []
    if can_chart:
        stock = list(
            usable_stock(session)
            .filter(lot__expiry__gte=timezone.localdate(timezone.now(), session_zone(session)))
            .select_related("lot")[:STOCK_CHOICES]
        )
    effects = list(
        AdverseEffect.objects.filter(patient_id=session.patient_id, status=AdverseEffectStatus.OPEN)
        .select_related("session")
        .order_by("-reported_at")
    )
    flags = list(PatientFlag.objects.filter(patient_id=session.patient_id, active=True))
    ctx: dict[str, Any] = {
        "session": session,
        "patient": session.patient,
        "injections": injections,
        "groups": site_groups(injections),
        "bodymap": session_maps(session, injections, can_chart=can_chart),
        "vials": [
            {
                "vial": v,
                "conc": concentration(v),
                # BTX-RECON-24H (S25): usable for this long after reconstitution.
                "usable_until": v.reconstituted_at + timedelta(hours=facts.recon_max_hours()),
                "waste_reason": WasteReason(v.waste_reason).label
                if v.waste_reason in WasteReason.values
                else "",
            }
            for v in vials
        ],
        "stock": stock,
        "findings": findings,
        "totals": result.get("totals", {}),
        "rule_set": result.get("rule_set", ""),
        "decisions": decisions,
        "effects": effects,
        "flags": flags,
        "units_done": view.units_done,
        "sites_done": view.sites_done,
        "is_draft": is_draft,
        "can_chart": can_chart,
        "can_sign": is_draft and user.has_clinic_perm(Perm.SESSION_SIGN, clinic_id),
        "can_override": is_draft and user.has_clinic_perm(Perm.SESSION_OVERRIDE_BLOCK, clinic_id),
        "reason_min_chars": findings_actions.REASON_MIN_CHARS,
        "can_amend": session.status in GIVEN_STATUSES
        and user.has_clinic_perm(Perm.SESSION_SIGN, clinic_id),
        "blocked": blocked,
        "site": site,
        "site_form": site_form,
        "add_form": extra.pop("add_form", None) or AddSiteForm(muscles=site_choices(session)),
        "indication_labels": facts.indication_labels(session_indications(session)),
        "indication_totals": indication_totals(session, injections),
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
            vials=[(v.pk, vial_label(v)) for v in stock],
            initial={
                "reconstituted_at": min(timezone.now(), session.performed_at),
                "diluent_ml": default_diluent(stock),
            },
        ),
        "amend_form": extra.pop("amend_form", None) or AmendForm(),
        "effect_form": AdverseEffectForm(auto_id="ae-%s"),
        "can_record_waste": session.status in (SessionStatus.DRAFT, *GIVEN_STATUSES)
        and cast("User", user).has_clinic_perm(Perm.SESSION_CHART, clinic_id),
        "waste_reasons": WasteReason.choices,
        "can_record_effect": session.status != "draft"
        and user.has_clinic_perm(Perm.SESSION_CHART, clinic_id),
        "sign_errors": extra.pop("sign_errors", None),
        "next_due": follow_up.next_due(session) if session.status in GIVEN_STATUSES else None,
        "checkin": follow_up.checkin_window(session) if session.status in GIVEN_STATUSES else None,
        "can_cosign": session.status == SessionStatus.AWAITING_COSIGN
        and cast("User", user).has_clinic_perm(Perm.SESSION_COSIGN, clinic_id),
        "per_site": facts.units_per_site(),
        "can_weigh": is_draft
        and cast("User", user).has_clinic_perm(Perm.PATIENT_CLINICAL_EDIT, clinic_id),
    }
    ctx.update(dose_panel(session, injections, result.get("totals", {})))
    ctx["weight_form"] = extra.pop("weight_form", None) or WeightForm(
        auto_id="weight-%s",
        initial={
            "measured_on": timezone.localtime(session.performed_at, session_zone(session)).date()
        },
    )
    ctx.update(extra)
    return ctx


def usable_stock(session: TreatmentSession) -> QuerySet[Vial]:
    """Vials this session may open: in stock at its clinic, clinic stock or dispensed for this
    patient; the patient's own specialty-pharmacy vials first, then first-expiring-first."""
    return (
        Vial.objects.filter(clinic_id=session.clinic_id, status=VialStatus.IN_STOCK)
        .filter(Q(patient__isnull=True) | Q(patient_id=session.patient_id))
        .order_by(F("patient_id").asc(nulls_last=True), "lot__expiry", "id")
    )


def vial_label(v: Vial) -> str:
    own = " · dispensed for this patient" if v.patient_id else ""
    return (
        f"Lot {v.lot.lot_number} · exp {v.lot.expiry:%Y-%m-%d} · {v.lot.size_units} U"
        f"{own} (vial {v.pk})"
    )


def default_diluent(stock: list[Vial]) -> Decimal | None:
    """The chronic migraine dilution for the first stocked vial's size."""
    return facts.cm_diluent_ml(stock[0].lot.size_units) if stock else None


def render_session(
    request: HttpRequest, session: TreatmentSession, ctx: dict[str, Any], status: int = 200
):
    with timezone.override(session_zone(session)):
        return render_page(
            request, "treatments/session.html", ctx, fragment="workspace", status=status
        )
