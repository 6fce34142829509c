"""Reads for the stock screen and the API: stock on hand per product and lot, and the alerts
(low clinic stock against each clinic's threshold, lots expiring soon). A fixed number of queries
whatever the number of vials, lots or clinics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q

from bontrack.accounts.models import Scope
from bontrack.core.models import Clinic
from bontrack.inventory.choices import VialSource, VialStatus
from bontrack.inventory.models import StockSettings, Vial

# Policy, not a clinical number: lots expiring within this many days are flagged on the stock
# screen so they are used (or returned) first.
EXPIRY_ALERT_DAYS = 30
DEFAULT_LOW_STOCK_VIALS = StockSettings._meta.get_field("low_stock_vials").get_default()


@dataclass(frozen=True)
class Alert:
    kind: str  # "low_stock" | "expiring" | "expired"
    clinic: str
    message: str


def clinics_in(scope: Scope):  # type: ignore[no-untyped-def]
    qs = Clinic.objects.filter(practice_id=scope.practice_id)
    return qs if scope.all_clinics else qs.filter(pk__in=scope.clinic_ids)


def on_hand(scope: Scope) -> list[dict[str, Any]]:
    """One row per clinic, product and lot: vials in stock (clinic stock and reserved for a
    patient), open, used, discarded and recalled (one query)."""
    return [
        dict(r)
        for r in Vial.objects.in_scope(scope)
        .values(
            "clinic_id",
            "clinic__name",
            "lot_id",
            "lot__product",
            "lot__lot_number",
            "lot__ndc",
            "lot__expiry",
            "lot__size_units",
            "lot__recalled_at",
        )
        .annotate(
            in_stock=Count(
                "id", filter=Q(status=VialStatus.IN_STOCK, source=VialSource.CLINIC_STOCK)
            ),
            reserved=Count(
                "id", filter=Q(status=VialStatus.IN_STOCK, source=VialSource.SPECIALTY_PHARMACY)
            ),
            open=Count("id", filter=Q(status=VialStatus.RECONSTITUTED)),
            used=Count("id", filter=Q(status=VialStatus.USED)),
            discarded=Count("id", filter=Q(status=VialStatus.DISCARDED)),
            recalled=Count("id", filter=Q(status=VialStatus.RECALLED)),
        )
        .order_by("clinic__name", "lot__product", "lot__expiry", "lot__lot_number")
    ]


def thresholds(scope: Scope) -> dict[int, tuple[str, int]]:
    """Each clinic in scope with its low-stock threshold (one query)."""
    rows = clinics_in(scope).values_list("pk", "name", "stock_settings__low_stock_vials")
    return {pk: (name, DEFAULT_LOW_STOCK_VIALS if t is None else t) for pk, name, t in rows}


def alerts(scope: Scope, rows: list[dict[str, Any]], today: date) -> list[Alert]:
    """Low usable clinic stock per clinic and product, and lots expiring within
    EXPIRY_ALERT_DAYS (from the on-hand rows and one query for the thresholds)."""
    out: list[Alert] = []
    usable: dict[tuple[int, str], int] = {}
    for r in rows:
        key = (r["clinic_id"], r["lot__product"])
        ok = r["lot__expiry"] >= today and r["lot__recalled_at"] is None
        usable[key] = usable.get(key, 0) + (r["in_stock"] if ok else 0)
        stocked = r["in_stock"] + r["reserved"]
        if not stocked or r["lot__recalled_at"] is not None:
            continue
        if r["lot__expiry"] < today:
            out.append(
                Alert(
                    "expired",
                    r["clinic__name"],
                    f"Lot {r['lot__lot_number']} expired on {r['lot__expiry']:%Y-%m-%d}: "
                    f"discard its {stocked} vial(s).",
                )
            )
        elif r["lot__expiry"] <= today + timedelta(days=EXPIRY_ALERT_DAYS):
            days = (r["lot__expiry"] - today).days
            out.append(
                Alert(
                    "expiring",
                    r["clinic__name"],
                    f"Lot {r['lot__lot_number']} expires on {r['lot__expiry']:%Y-%m-%d} "
                    f"(in {days} day{'s' if days != 1 else ''}): {stocked} vial(s) left; use "
                    "them first.",
                )
            )
    products = sorted({r["lot__product"] for r in rows}) or ["onabotulinumtoxinA"]
    for clinic_id, (name, threshold) in sorted(thresholds(scope).items(), key=lambda x: x[1][0]):
        for product in products:
            n = usable.get((clinic_id, product), 0)
            if n < threshold:
                out.append(
                    Alert(
                        "low_stock",
                        name,
                        f"Low stock of {product}: {n} usable vial(s), below the clinic's "
                        f"alert level of {threshold}.",
                    )
                )
    return out
