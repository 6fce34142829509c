"""The program dashboard page, its CSV exports and the patients behind a number."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from bontrack.accounts.access import staff_view
from bontrack.accounts.models import Membership, Scope, User
from bontrack.accounts.requests import StaffRequest
from bontrack.accounts.roles import Perm, Role
from bontrack.core import csvexport
from bontrack.core.models import Clinic
from bontrack.core.pagination import BadCursor, keyset_page
from bontrack.core.parsing import BadQuery, query_int
from bontrack.ops.dashboard import charts, figures, reads
from bontrack.ops.dashboard.figures import Filters
from bontrack.outcomes.models import Stage
from bontrack.patients.choices import Indication
from bontrack.patients.models import Patient

PAGE_SIZE = 50


def _clinics(scope: Scope) -> list[Clinic]:
    qs = Clinic.objects.filter(practice_id=scope.practice_id).order_by("name")
    return list(qs if scope.all_clinics else qs.filter(pk__in=scope.clinic_ids))


def _physicians(scope: Scope) -> list[User]:
    qs = Membership.objects.filter(practice_id=scope.practice_id, role=Role.PHYSICIAN)
    ids = qs.values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "id"))


def _filters(request: StaffRequest, scope: Scope) -> Filters:
    """The period and filters from the URL. A malformed value is ignored (the default applies);
    a clinic outside the user's scope is a 404."""
    today = timezone.localdate()
    start, end = figures.default_period(today)
    start = figures.parse_month(request.GET.get("from", "")) or start
    end = figures.parse_month(request.GET.get("to", "")) or end
    if start > end:
        start, end = end, start
    try:
        clinic = query_int(request, "clinic")
    except BadQuery:
        clinic = None
    try:
        physician = query_int(request, "physician")
    except BadQuery:
        physician = None
    if clinic is not None and not (
        scope.allows_clinic(clinic)
        and Clinic.objects.filter(pk=clinic, practice_id=scope.practice_id).exists()
    ):
        raise Http404("No such clinic.")
    indication = request.GET.get("indication", "")
    if indication not in Indication.values:
        indication = ""
    return Filters(start, end, clinic, physician, indication)


@staff_view(Perm.DASHBOARD_VIEW)
def dashboard(request: StaffRequest, *, scope: Scope) -> HttpResponse:
    f = _filters(request, scope)
    today = timezone.localdate()
    figs = figures.compute(scope, f, today)
    list_url = reverse("dashboard:patients")
    items = []
    for fig in figs:
        rows = []
        for row, link in zip(fig.rows, fig.links, strict=True):
            href = f"{list_url}?{urlencode(f.query(**link))}" if link else ""
            rows.append({"cells": row, "href": href})
        items.append(
            {
                "figure": fig,
                "rows": rows,
                "chart": charts.chart_for(fig),
                "csv": f"{reverse('dashboard:export', args=[fig.slug])}?{urlencode(f.query())}",
            }
        )
    return render(
        request,
        "ops/dashboard.html",
        {
            "items": items,
            "filters": f,
            "from_value": f.start.strftime("%Y-%m"),
            "to_value": f.end.strftime("%Y-%m"),
            "clinics": _clinics(scope),
            "physicians": _physicians(scope),
            "indications": Indication.choices,
            "today": today,
        },
    )


@staff_view(Perm.DASHBOARD_VIEW)
def export(request: StaffRequest, slug: str, *, scope: Scope) -> HttpResponse:
    f = _filters(request, scope)
    figs = {fig.slug: fig for fig in figures.compute(scope, f, timezone.localdate())}
    fig = figs.get(slug)
    if fig is None:
        raise Http404("No such figure.")
    out = io.StringIO()
    w = csvexport.writer(out)
    w.writerow(["Period", f"{f.start:%Y-%m} to {f.end:%Y-%m}"])
    w.writerow(fig.columns)
    w.writerows(fig.rows)
    reads.record_export(
        actor=request.user, practice_id=scope.practice_id, figure=slug, rows=len(fig.rows)
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="dashboard-{slug}-{f.start:%Y-%m}-{f.end:%Y-%m}.csv"'
    )
    return response


def _describe(metric: str, key: str, indication: str | None) -> str:
    if metric == "stage":
        return "overdue now" if key == "overdue" else f"stage {Stage(key).label}"
    names = {
        "responder": {"yes": "responders", "no": "non-responders"},
        "interval": {
            "on_time": "re-treated within 12-14 weeks",
            "early": "re-treated earlier than 12 weeks",
            "late": "re-treated later than 14 weeks",
        },
        "visits": {"no_show": "missed appointments", "attended": "attended appointments"},
    }
    if metric in names:
        return names[metric].get(key, key)
    if metric == "reduction":
        return f"headache-day reduction {key}"
    if metric == "ae":
        return f"adverse effect: {key.replace('_', ' ')}"
    if metric == "scale":
        return f"{figures.INSTRUMENTS.get(key, key)} change, {figures.indication_label(indication or '')}"
    return f"units, {figures.indication_label(indication or '')}"


@staff_view(Perm.DASHBOARD_VIEW)
def patients(request: StaffRequest, *, scope: Scope) -> HttpResponse:
    """The patients behind one number of the dashboard (scoped, paginated, audited)."""
    f = _filters(request, scope)
    metric = request.GET.get("metric", "")
    key = request.GET.get("key", "")
    if metric not in figures.METRICS or len(key) > 30:
        raise Http404("No such figure.")
    if metric == "stage" and key not in {*Stage.values, "overdue"}:
        raise Http404("No such stage.")
    # A figure per indication (scales, units) links with its indication as the filter.
    indication = f.indication or None
    ids = figures.patients_behind(scope, f, metric, key, None, timezone.localdate())
    qs = Patient.objects.in_scope(scope).filter(pk__in=ids).select_related("clinic")
    try:
        page = keyset_page(
            qs, fields=("id",), cursor=request.GET.get("cursor") or None, size=PAGE_SIZE
        )
    except BadCursor:
        raise Http404("No such page.") from None
    what = _describe(metric, key, indication)
    rows: list[Any] = list(page.items)
    reads.record_click_through(actor=request.user, patients=rows, what=what)
    next_url = ""
    if page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        next_url = f"?{params.urlencode()}"
    back = f"{reverse('dashboard:home')}?{urlencode(f.query())}"
    return render(
        request,
        "ops/dashboard_patients.html",
        {"rows": rows, "what": what, "filters": f, "next_url": next_url, "back": back},
    )
