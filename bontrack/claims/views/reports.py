"""Billing reports with charts and CSV exports (billing and clinic administrators)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Scope
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.claims import reports as figures
from bontrack.core import csvexport
from bontrack.core.parsing import BadQuery, query_date

DEFAULT_DAYS = 365


def _period(request: StaffRequest) -> tuple[date, date]:
    try:
        start = query_date(request, "from")
        end = query_date(request, "to")
    except BadQuery as exc:
        raise Http404(str(exc)) from exc
    today = timezone.localdate()
    end = end or today
    start = start or (end - timedelta(days=DEFAULT_DAYS)).replace(day=1)
    if start > end:
        start, end = end, start
    return start, end


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def reports(request: StaffRequest, scope: Scope) -> HttpResponse:
    start, end = _period(request)
    items = figures.compute(scope, start, end)
    audit.record(
        actor=request.user,
        action="view",
        object_type="claims.reports",
        practice_id=scope.practice_id,
        summary=f"Viewed the billing reports {start} to {end}",
    )
    query = f"from={start.isoformat()}&to={end.isoformat()}"
    return render(
        request,
        "claims/reports.html",
        {"items": items, "start": start, "end": end, "query": query},
    )


@staff_view(Perm.CLAIM_VIEW)
@require_GET
def report_csv(request: StaffRequest, slug: str, scope: Scope) -> HttpResponse:
    if slug not in figures.SLUGS:
        raise Http404("No such report.")
    start, end = _period(request)
    report = {r.slug: r for r in figures.compute(scope, start, end)}[slug]
    out = io.StringIO()
    w = csvexport.writer(out)
    w.writerow(["Period", f"{start} to {end}"])
    w.writerow(report.columns)
    w.writerows(report.rows)
    audit.record(
        actor=request.user,
        action="export",
        object_type="claims.reports",
        object_id=slug,
        practice_id=scope.practice_id,
        summary=f"Exported the billing report {report.title} ({len(report.rows)} rows)",
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="billing-{slug}-{start}-{end}.csv"'
    return response
