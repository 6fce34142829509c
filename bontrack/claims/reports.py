"""Billing reports: units used and wasted per product, clinic and month; sessions (claims) per
month; codes billed per month. Each is a table, a chart (core.charts) and a CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import altair as alt
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from bontrack.accounts.models import Scope
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import Claim, ClaimLine
from bontrack.core.charts import Chart, Table, theme_config
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import VialUse

SLUGS = ("units", "sessions", "codes")


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[Any]]
    chart: Chart


def _month(value: Any) -> str:
    return f"{value:%Y-%m}" if value else ""


@lru_cache(maxsize=8)
def _spec(
    name: str, kind: str, x_title: str, y_title: str, color_title: str, counts: bool
) -> dict[str, Any]:
    base = alt.Chart(alt.NamedData(name))
    enc: dict[str, Any] = {
        "x": alt.X("month:O", title=x_title, axis=alt.Axis(labelAngle=-30)),
        "y": alt.Y(
            "value:Q",
            title=y_title,
            stack=True,
            axis=alt.Axis(tickMinStep=1, format="d") if counts else alt.Axis(),
        ),
        "tooltip": [
            alt.Tooltip("month:O", title=x_title),
            alt.Tooltip("series:N", title=color_title),
            alt.Tooltip("value:Q", title=y_title),
        ],
    }
    if kind == "stacked":
        enc["color"] = alt.Color("series:N", title=color_title)
    chart = base.mark_bar().encode(**enc).properties(width="container", height=220)
    return chart.configure(**theme_config()).to_dict()


def _chart(
    slug: str,
    title: str,
    description: str,
    data: list[dict[str, Any]],
    table: Table,
    *,
    y_title: str,
    color_title: str,
) -> Chart:
    name = f"claims-{slug}"
    return Chart(
        name=name,
        title=title,
        description=description,
        spec=_spec(name, "stacked", "Month", y_title, color_title, slug != "units"),
        table=table,
        datasets={name: data},
    )


def units_report(scope: Scope, start: date, end: date) -> Report:
    rows = (
        VialUse.objects.filter(
            session__status__in=GIVEN_STATUSES,
            session__performed_at__date__gte=start,
            session__performed_at__date__lte=end,
            session__patient__practice_id=scope.practice_id,
        )
        .filter(Q() if scope.all_clinics else Q(session__clinic_id__in=scope.clinic_ids))
        .annotate(month=TruncMonth("session__performed_at"))
        .values("month", "vial__lot__product", "session__clinic__name")
        .annotate(used=Sum("units_used"), wasted=Sum("units_wasted"), vials=Count("vial_id"))
        .order_by("month", "vial__lot__product", "session__clinic__name")
    )
    table_rows = [
        [
            _month(r["month"]),
            r["vial__lot__product"],
            r["session__clinic__name"],
            r["vials"],
            float(r["used"] or 0),
            float(r["wasted"] or 0),
        ]
        for r in rows
    ]
    by_month: dict[tuple[str, str], float] = {}
    for m, _p, _c, _v, used, wasted in table_rows:
        by_month[(m, "Given")] = by_month.get((m, "Given"), 0) + used
        by_month[(m, "Wasted")] = by_month.get((m, "Wasted"), 0) + wasted
    data = [{"month": m, "series": s, "value": v} for (m, s), v in sorted(by_month.items())]
    columns = ["Month", "Product", "Clinic", "Vials", "Units given", "Units wasted"]
    title = "Units given and wasted"
    desc = "Units given and wasted per product, clinic and month, from the vials of given sessions."
    table = Table(tuple(columns), tuple(tuple(r) for r in table_rows), title)
    chart = _chart("units", title, desc, data, table, y_title="Units", color_title="Units")
    return Report("units", title, desc, columns, table_rows, chart)


def _claims(scope: Scope, start: date, end: date):  # type: ignore[no-untyped-def]
    return (
        Claim.objects.in_scope(scope)
        .exclude(status=ClaimStatus.SUPERSEDED)
        .filter(service_date__gte=start, service_date__lte=end)
    )


def sessions_report(scope: Scope, start: date, end: date) -> Report:
    rows = (
        _claims(scope, start, end)
        .annotate(month=TruncMonth("service_date"))
        .values("month")
        .annotate(
            sessions=Count("id"),
            ready=Count("id", filter=Q(status=ClaimStatus.READY)),
            attention=Count("id", filter=Q(status=ClaimStatus.NEEDS_ATTENTION)),
            exported=Count("id", filter=Q(status=ClaimStatus.EXPORTED)),
            paid=Count("id", filter=Q(status=ClaimStatus.PAID)),
            denied=Count("id", filter=Q(status=ClaimStatus.DENIED)),
        )
        .order_by("month")
    )
    keys = ("ready", "attention", "exported", "paid", "denied")
    labels = {
        "ready": "Ready",
        "attention": "Needs attention",
        "exported": "Exported",
        "paid": "Paid",
        "denied": "Denied",
    }
    table_rows = [[_month(r["month"]), r["sessions"], *(r[k] for k in keys)] for r in rows]
    data = [
        {"month": _month(r["month"]), "series": labels[k], "value": r[k]}
        for r in rows
        for k in keys
        if r[k]
    ]
    columns = ["Month", "Signed sessions (claims)", *labels.values()]
    title = "Sessions per month"
    desc = "Signed sessions per month of service, each with its claim, by the claim's state."
    table = Table(tuple(columns), tuple(tuple(r) for r in table_rows), title)
    chart = _chart("sessions", title, desc, data, table, y_title="Sessions", color_title="Claim")
    return Report("sessions", title, desc, columns, table_rows, chart)


def codes_report(scope: Scope, start: date, end: date) -> Report:
    claims = _claims(scope, start, end)
    rows = (
        ClaimLine.objects.filter(claim__in=claims)
        .annotate(month=TruncMonth("claim__service_date"))
        .values("month", "code")
        .annotate(lines=Count("id"), claims=Count("claim_id", distinct=True), units=Sum("units"))
        .order_by("month", "code")
    )
    table_rows = [
        [_month(r["month"]), r["code"], r["claims"], r["lines"], float(r["units"] or 0)]
        for r in rows
    ]
    data = [{"month": m, "series": code, "value": n} for m, code, n, _l, _u in table_rows]
    columns = ["Month", "Code", "Claims", "Lines", "Units"]
    title = "Codes billed per month"
    desc = "CPT and HCPCS codes on the claims per month of service (claims with the code)."
    table = Table(tuple(columns), tuple(tuple(r) for r in table_rows), title)
    chart = _chart("codes", title, desc, data, table, y_title="Claims", color_title="Code")
    return Report("codes", title, desc, columns, table_rows, chart)


def compute(scope: Scope, start: date, end: date) -> list[Report]:
    return [
        units_report(scope, start, end),
        sessions_report(scope, start, end),
        codes_report(scope, start, end),
    ]
