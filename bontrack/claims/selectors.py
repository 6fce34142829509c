"""Reads for the billing screens: the queue with its counts, a claim with its lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum

from bontrack.accounts.models import Scope
from bontrack.claims.choices import QUEUE_STATES, ClaimStatus
from bontrack.claims.models import Claim
from bontrack.core.pagination import Page, keyset_page

QUEUE_PAGE = 25


@dataclass(frozen=True)
class QueueFilters:
    state: str = ClaimStatus.READY
    clinic_id: int | None = None
    indication: str = ""
    start: date | None = None
    end: date | None = None
    q: str = ""


def _filtered(scope: Scope, f: QueueFilters) -> QuerySet[Claim]:
    qs = Claim.objects.in_scope(scope).in_queue()
    if f.clinic_id:
        qs = qs.filter(clinic_id=f.clinic_id)
    if f.indication:
        qs = qs.filter(session__indication=f.indication)
    if f.start:
        qs = qs.filter(service_date__gte=f.start)
    if f.end:
        qs = qs.filter(service_date__lte=f.end)
    if f.q:
        qs = qs.filter(Q(patient__mrn__iexact=f.q) | Q(patient__last_name__istartswith=f.q))
    return qs


def counts(scope: Scope, f: QueueFilters) -> dict[str, int]:
    """Claims per queue state under the filters (one query)."""
    agg = _filtered(scope, f).aggregate(
        **{s.value: Count("id", filter=Q(status=s)) for s in QUEUE_STATES}
    )
    return {s.value: int(agg[s.value] or 0) for s in QUEUE_STATES}


def queue(scope: Scope, f: QueueFilters, cursor: str | None) -> Page:
    """One page of the state's claims, newest service first (keyset; one query)."""
    qs = (
        _filtered(scope, f)
        .filter(status=f.state)
        .select_related("patient", "clinic", "session", "batch")
        .annotate(charge_total=Sum("lines__charge"), line_count=Count("lines"))
    )
    return keyset_page(
        qs, fields=("service_date", "id"), cursor=cursor, size=QUEUE_PAGE, descending=True
    )


def claim_in_scope(scope: Scope, pk: int) -> Claim:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Claim.objects.in_scope(scope).select_related(
            "patient", "clinic", "session", "session__signed_by", "batch"
        ),
        pk=pk,
    )
