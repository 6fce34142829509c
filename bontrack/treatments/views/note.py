"""The procedure note of a session, as HTML and as PDF."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.treatments import facts, maps, selectors
from bontrack.treatments.actions import common, follow_up
from bontrack.treatments.choices import Guidance, InjectionStatus
from bontrack.treatments.models import (
    Injection,
    TreatmentSession,
)
from bontrack.treatments.views.context import (
    annotate,
    concentration,
    indication_totals,
    session_in_scope,
    session_indications,
    session_maps,
    session_zone,
    site_groups,
)

# ---- procedure note ------------------------------------------------------------------------------


def billing_summary(session: TreatmentSession, injections: list[Injection]) -> list[dict[str, Any]]:
    """What a claim needs from the note, per indication and per limb or side of the sites given:
    the muscles injected (how many, which), units and sites, and the guidance used."""
    labels = facts.muscle_labels()
    guidance_labels = dict(Guidance.choices)
    out = []
    for ind in session_indications(session):
        done = [i for i in injections if i.indication == ind and i.status == InjectionStatus.DONE]
        where: OrderedDict[str, list[Injection]] = OrderedDict()
        for inj in sorted(done, key=lambda i: (i.side, i.position)):
            where.setdefault(maps.side_words(ind, inj.side).capitalize(), []).append(inj)
        for place, rows in where.items():
            muscles = list(dict.fromkeys(labels.get(i.muscle, i.muscle) for i in rows))
            used = list(dict.fromkeys(i.guidance for i in rows))
            out.append(
                {
                    "indication": facts.indication_label(ind),
                    "where": place,
                    "limb": bool(maps.MAPS.get(ind) and maps.MAPS[ind].limb),
                    "muscle_count": len(muscles),
                    "muscles": muscles,
                    "sites": sum(i.sites for i in rows),
                    "units": sum((i.units for i in rows), Decimal(0)),
                    "guidance": [guidance_labels[g] for g in used if g] or ["Not recorded"],
                    "guidance_missing": any(not g for g in used) and any(used),
                }
            )
    return out


def note_context(session: TreatmentSession) -> dict[str, Any]:
    view = selectors.view_of(session)
    injections, decisions, result = view.injections, view.decisions, view.result
    return {
        "session": session,
        "patient": session.patient,
        "groups": site_groups(injections),
        "injections": injections,
        "bodymap": session_maps(session, injections),
        "billing": billing_summary(session, injections),
        "vials": [{"vial": v, "conc": concentration(v)} for v in view.vials],
        "findings": annotate(list(result.get("findings", [])), decisions),
        "decisions": decisions,
        "totals": result.get("totals", {}),
        "rule_set": view.check.rule_set,
        "units_done": view.units_done,
        "sites_done": view.sites_done,
        "next_due": follow_up.next_due(session) if session.status != "draft" else None,
        "indication_labels": facts.indication_labels(session_indications(session)),
        "indication_totals": indication_totals(session, injections),
        "outcome": outcome(session),
    }


def outcome(session: TreatmentSession) -> dict[str, Any] | None:
    """The patient's outcome charts as of the session's day (the diary page's charts, from
    ``diaries.facts.outcome_charts``), for a patient with diary days or questionnaires; a signed
    note printed later shows the same figures."""
    from bontrack.diaries import facts as diary_facts

    as_of = timezone.localtime(session.performed_at, session_zone(session)).date()
    out = diary_facts.outcome_charts(session.patient, as_of)
    diary = [out["periods"], out["cycles"], out["calendar"]] if out["recorded_days"] else []
    charts = [c for c in (*diary[:2], out["score_chart"], *diary[2:]) if not c.empty]
    return {"as_of": as_of, "charts": charts} if charts else None


@staff_view(Perm.SESSION_VIEW)
@require_GET
def note_html(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    session = session_in_scope(scope, sid)
    common.record_view(actor=request.user, patient=session.patient, what=f"procedure note {sid}")
    with timezone.override(session_zone(session)):
        return render(request, "treatments/note.html", note_context(session))


@staff_view(Perm.SESSION_VIEW)
@require_GET
def note_pdf(request: HttpRequest, sid: int, scope: Scope) -> HttpResponse:
    from bontrack.treatments.pdf import procedure_note_pdf

    session = session_in_scope(scope, sid)
    common.record_view(
        actor=request.user, patient=session.patient, what=f"procedure note PDF {sid}"
    )
    with timezone.override(session_zone(session)):
        data = procedure_note_pdf(note_context(session))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="procedure-note-{session.pk}.pdf"'
    return response
