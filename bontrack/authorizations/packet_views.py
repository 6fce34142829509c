"""Payer packets (initial authorization, renewal): the screen, the PDF, keeping it as a document.

One click: the chart panel links to the packet screen, which shows every figure of the packet
and offers the PDF (the same ``Packet``, so the PDF's text carries the figures on screen) and,
for billing and the clinic administrator, "Keep with the authorization" (stored as a document).
"""

from __future__ import annotations

import zoneinfo
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.authorizations import packets, services
from bontrack.authorizations.choices import DocumentKind
from bontrack.authorizations.models import Authorization
from bontrack.core.errors import Conflict

KINDS = {"initial": DocumentKind.INITIAL_PACKET, "renewal": DocumentKind.RENEWAL_PACKET}


def _auth(scope: Scope, pk: int, kind: str) -> tuple[Authorization, str]:
    if kind not in KINDS:
        raise Http404
    auth = get_object_or_404(
        Authorization.objects.in_scope(scope).select_related("patient", "patient__clinic"), pk=pk
    )
    return auth, KINDS[kind]


def _today(auth: Authorization) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(auth.patient.clinic.time_zone)).date()


def build_packet(auth: Authorization, kind: str) -> packets.Packet:
    with timezone.override(zoneinfo.ZoneInfo(auth.patient.clinic.time_zone)):
        return packets.build(auth, kind, _today(auth))


def render_pdf(packet: packets.Packet) -> bytes:
    from bontrack.authorizations.pdf import packet_pdf

    return packet_pdf(packet)


@staff_view(Perm.AUTHORIZATION_PACKET)
@require_GET
def packet(request: StaffRequest, auth_id: int, kind: str, scope: Scope) -> HttpResponse:
    auth, code = _auth(scope, auth_id, kind)
    built = build_packet(auth, code)
    services.record_view(
        actor=request.user, patient=auth.patient, what=f"{built.kind_label.lower()} {auth.pk}"
    )
    return render(
        request,
        "authorizations/packet.html",
        {
            "p": built,
            "auth": auth,
            "patient": auth.patient,
            "kind": kind,
            "can_attach": request.user.has_clinic_perm(
                Perm.AUTHORIZATION_EDIT, auth.patient.clinic_id
            ),
        },
    )


@staff_view(Perm.AUTHORIZATION_PACKET)
@require_GET
def packet_pdf(request: StaffRequest, auth_id: int, kind: str, scope: Scope) -> HttpResponse:
    auth, code = _auth(scope, auth_id, kind)
    built = build_packet(auth, code)
    data = render_pdf(built)
    services.record_view(
        actor=request.user, patient=auth.patient, what=f"{built.kind_label.lower()} PDF {auth.pk}"
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{kind}-packet-{auth.pk}.pdf"'
    return response


@staff_view(Perm.AUTHORIZATION_EDIT)
@require_POST
def packet_attach(request: StaffRequest, auth_id: int, kind: str, scope: Scope) -> HttpResponse:
    auth, code = _auth(scope, auth_id, kind)
    built = build_packet(auth, code)
    try:
        services.attach_packet(
            actor=request.user,
            authorization=auth,
            kind=code,
            pdf=render_pdf(built),
            rule_sets=built.rule_sets,
        )
    except (ValidationError, Conflict) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("authorizations:packet", auth_id=auth.pk, kind=kind)
    messages.success(request, f"The {built.kind_label.lower()} is kept with the authorization.")
    return redirect("patients:chart", pk=auth.patient_id)
