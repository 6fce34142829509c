"""Payer packets (initial authorization, renewal): the screen, the PDF, keeping it as a document."""

from __future__ import annotations

from django.http import Http404, HttpResponse

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm


@staff_view(Perm.AUTHORIZATION_PACKET)
def packet(request: StaffRequest, auth_id: int, kind: str, scope: Scope) -> HttpResponse:
    raise Http404


@staff_view(Perm.AUTHORIZATION_PACKET)
def packet_pdf(request: StaffRequest, auth_id: int, kind: str, scope: Scope) -> HttpResponse:
    raise Http404


@staff_view(Perm.AUTHORIZATION_EDIT)
def packet_attach(request: StaffRequest, auth_id: int, kind: str, scope: Scope) -> HttpResponse:
    raise Http404
