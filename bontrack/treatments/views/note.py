"""The procedure note of a session, as HTML and as PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.roles import Perm
from bontrack.treatments import facts, headmap
from bontrack.treatments.actions import common, follow_up
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.choices import InjectionStatus
from bontrack.treatments.models import (
    TreatmentSession,
)
from bontrack.treatments.views.context import (
    annotate,
    concentration,
    indication_totals,
    session_in_scope,
    session_indications,
    session_zone,
    site_groups,
)

# ---- procedure note ------------------------------------------------------------------------------


def note_context(session: TreatmentSession) -> dict[str, Any]:
    injections = list(session.injections.all())
    vials = vials_actions.session_vials(session)
    decisions = list(session.decisions.select_related("decided_by"))
    result = findings_actions.current_findings(session)
    return {
        "session": session,
        "patient": session.patient,
        "groups": site_groups(injections),
        "injections": injections,
        "map": headmap.layout(injections),
        "views": headmap.VIEWS,
        "vials": [{"vial": v, "conc": concentration(v)} for v in vials],
        "findings": annotate(list(result.get("findings", [])), decisions),
        "decisions": decisions,
        "totals": result.get("totals", {}),
        "rule_set": result.get("rule_set", "") if session.status == "draft" else session.rule_set,
        "units_done": sum(
            (i.units for i in injections if i.status == InjectionStatus.DONE), Decimal(0)
        ),
        "sites_done": sum(i.sites for i in injections if i.status == InjectionStatus.DONE),
        "next_due": follow_up.next_due(session) if session.status != "draft" else None,
        "indication_labels": facts.indication_labels(session_indications(session)),
        "indication_totals": indication_totals(session, injections),
    }


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
