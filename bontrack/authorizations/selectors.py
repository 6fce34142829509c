"""Reads of authorizations: consumption (one aggregate query for any number of rows), the state
of each authorization as of a day, and the plain-sentence warnings scheduling shows at recall,
booking and check-in.

Consumption: the units of the *done* injections of the authorization's indication in the
patient's *given* sessions (``treatments.choices.GIVEN_STATUSES``: signed, or awaiting a
co-signature) performed inside the validity window, and the number of those sessions (visits).
Both are correlated subqueries on the authorization query itself, so a page of 50 rows costs
one query. Session days are compared in the active time zone (views run in the clinic's).

``EXPIRY_WARNING_DAYS`` is program policy (issue 12: warn when an authorization expires within
30 days), not a clinical number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from bontrack.authorizations.choices import AuthStatus
from bontrack.authorizations.models import Authorization
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus
from bontrack.treatments.facts import indication_label
from bontrack.treatments.models import Injection, PlanLine

EXPIRY_WARNING_DAYS = 30  # program policy: "expires within 30 days" (issue 12 item 5)


def _given_injections() -> QuerySet[Injection]:
    return Injection.objects.filter(
        session__patient_id=OuterRef("patient_id"),
        indication=OuterRef("indication"),
        status=InjectionStatus.DONE,
        session__status__in=GIVEN_STATUSES,
        session__performed_at__date__gte=OuterRef("valid_from"),
        session__performed_at__date__lte=OuterRef("valid_until"),
    ).order_by()


def with_consumption(qs: QuerySet[Authorization]) -> QuerySet[Authorization]:
    """``units_used`` and ``visits_used`` on every row, in the same query."""
    units = (
        _given_injections()
        .values("session__patient_id")
        .annotate(total=Sum("units"))
        .values("total")[:1]
    )
    visits = (
        _given_injections()
        .values("session__patient_id")
        .annotate(n=Count("session_id", distinct=True))
        .values("n")[:1]
    )
    return qs.annotate(
        units_used=Coalesce(
            Subquery(units, output_field=DecimalField(max_digits=9, decimal_places=2)),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=9, decimal_places=2),
        ),
        visits_used=Coalesce(
            Subquery(visits, output_field=IntegerField()), Value(0), output_field=IntegerField()
        ),
    )


@dataclass(frozen=True)
class AuthState:
    """One authorization as of a day, with what is left (None when nothing was approved)."""

    auth: Authorization
    status: str  # requested / approved / denied / expired (approved past its end is expired)
    status_label: str
    units_used: Decimal
    visits_used: int
    units_left: Decimal | None
    visits_left: int | None
    days_left: int | None
    expiring: bool
    running_out: bool = False
    indication_label: str = ""
    plan_units: Decimal | None = None

    @property
    def pct_used(self) -> int | None:
        if not self.auth.units_approved:
            return None
        return min(100, round(100 * float(self.units_used) / self.auth.units_approved))


def state_of(auth: Authorization, today: date, plan_units: Decimal | None = None) -> AuthState:
    """The state of an authorization from ``with_consumption`` as of ``today``."""
    used = Decimal(getattr(auth, "units_used", 0) or 0)
    visits = int(getattr(auth, "visits_used", 0) or 0)
    status = auth.status
    if status == AuthStatus.APPROVED and auth.valid_until and auth.valid_until < today:
        status = AuthStatus.EXPIRED
    units_left = Decimal(auth.units_approved) - used if auth.units_approved is not None else None
    visits_left = auth.visits_approved - visits if auth.visits_approved is not None else None
    days_left = (auth.valid_until - today).days if auth.valid_until else None
    live = status == AuthStatus.APPROVED
    running_out = live and (
        (units_left is not None and plan_units is not None and units_left < plan_units)
        or (units_left is not None and units_left <= 0)
        or (visits_left is not None and visits_left <= 0)
    )
    return AuthState(
        auth=auth,
        status=status,
        status_label=AuthStatus(status).label,
        units_used=used,
        visits_used=visits,
        units_left=units_left,
        visits_left=visits_left,
        days_left=days_left,
        expiring=live and days_left is not None and days_left <= EXPIRY_WARNING_DAYS,
        running_out=bool(running_out),
        indication_label=indication_label(auth.indication),
        plan_units=plan_units,
    )


def plan_units(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Decimal]:
    """Units of each patient's active plan per indication (one query)."""
    keys = set(keys)
    if not keys:
        return {}
    rows = (
        PlanLine.objects.filter(
            plan__active=True,
            plan__patient_id__in={k[0] for k in keys},
            plan__indication__in={k[1] for k in keys},
        )
        .values("plan__patient_id", "plan__indication")
        .annotate(total=Sum("units"))
        .order_by()
    )
    return {
        (r["plan__patient_id"], r["plan__indication"]): Decimal(r["total"])
        for r in rows
        if (r["plan__patient_id"], r["plan__indication"]) in keys
    }


def patient_states(patient_id: int, today: date) -> list[AuthState]:
    """A patient's authorizations with consumption (two queries: the rows, the plans)."""
    rows = list(with_consumption(Authorization.objects.filter(patient_id=patient_id)))
    plans = plan_units((a.patient_id, a.indication) for a in rows)
    return [state_of(a, today, plans.get((a.patient_id, a.indication))) for a in rows]


# ---- warnings for scheduling (recall, booking, check-in) ------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What scheduling shows for one planned treatment: ok, and the sentences when not."""

    ok: bool
    warnings: list[str] = field(default_factory=list)
    detail: str = ""


def _day(d: date) -> str:
    return f"{d:%b} {d.day}, {d.year}"


def coverage(
    planned: Iterable[tuple[int, str, date]], today: date
) -> dict[tuple[int, str, date], Coverage]:
    """For each planned treatment ``(patient id, indication, day)``: is an approved
    authorization there for it, and the plain sentences when not (missing, expiring within
    ``EXPIRY_WARNING_DAYS``, ending before the day, fewer units left than the active plan needs,
    no visit left). Two queries whatever the number of rows."""
    wanted = set(planned)
    if not wanted:
        return {}
    patients = {w[0] for w in wanted}
    indications = {w[1] for w in wanted}
    rows = list(
        with_consumption(
            Authorization.objects.filter(
                patient_id__in=patients,
                indication__in=indications,
                status__in=[AuthStatus.APPROVED, AuthStatus.REQUESTED],
            ).order_by("patient_id", "indication", "-valid_until", "-id")
        )
    )
    by_key: dict[tuple[int, str], list[Authorization]] = {}
    for a in rows:
        by_key.setdefault((a.patient_id, a.indication), []).append(a)
    plans = plan_units({(w[0], w[1]) for w in wanted})
    out: dict[tuple[int, str, date], Coverage] = {}
    for key in wanted:
        patient_id, indication, day = key
        label = indication_label(indication).lower()
        auths = by_key.get((patient_id, indication), [])
        approved = [a for a in auths if a.status == AuthStatus.APPROVED]
        if not approved:
            if auths:
                msg = f"The prior authorization for {label} is requested but not approved yet."
            else:
                msg = f"No prior authorization is on file for {label}."
            out[key] = Coverage(False, [msg], "missing")
            continue
        covering = [
            a
            for a in approved
            if a.valid_from is not None
            and a.valid_until is not None
            and a.valid_from <= day <= a.valid_until
        ]
        auth = covering[0] if covering else approved[0]
        need = plans.get((patient_id, indication))
        state = state_of(auth, today, need)
        warnings: list[str] = []
        assert auth.valid_until is not None  # an approval has dates (constraint)
        if auth.valid_until < day:
            warnings.append(
                f"The authorization for {label} ends on {_day(auth.valid_until)}, "
                f"before the planned session on {_day(day)}."
            )
        elif state.days_left is not None and 0 <= state.days_left <= EXPIRY_WARNING_DAYS:
            warnings.append(
                f"The authorization for {label} expires on {_day(auth.valid_until)}, "
                f"in {state.days_left} day{'s' if state.days_left != 1 else ''}: ask for a renewal."
            )
        if auth.valid_from and day < auth.valid_from:
            warnings.append(
                f"The authorization for {label} starts on {_day(auth.valid_from)}, "
                f"after the planned session on {_day(day)}."
            )
        if state.units_left is not None and need is not None and state.units_left < need:
            warnings.append(
                f"{_u(state.units_left)} units are left on the authorization for {label}; "
                f"the plan needs {_u(need)} units."
            )
        elif state.units_left is not None and state.units_left <= 0:
            warnings.append(f"No units are left on the authorization for {label}.")
        if state.visits_left is not None and state.visits_left <= 0:
            warnings.append(f"No visits are left on the authorization for {label}.")
        left = (
            f"{_u(state.units_left)} units and {state.visits_left} visits left, "
            f"until {_day(auth.valid_until)}"
        )
        out[key] = Coverage(not warnings, warnings, left)
    return out


def _u(value: Any) -> str:
    return f"{float(value):g}"


# ---- the practice list (expiring and running out) --------------------------------------------

FAR_FUTURE = date(2100, 12, 31)  # sorts authorizations without an end date last
LIST_ORDER = ("end_key", "id")


def _plan_units_subquery() -> Subquery:
    lines = (
        PlanLine.objects.filter(
            plan__active=True,
            plan__patient_id=OuterRef("patient_id"),
            plan__indication=OuterRef("indication"),
        )
        .order_by()
        .values("plan_id")
        .annotate(total=Sum("units"))
        .values("total")[:1]
    )
    return Subquery(lines, output_field=DecimalField(max_digits=9, decimal_places=2))


def listing(qs: QuerySet[Authorization], *, show: str, today: date) -> QuerySet[Authorization]:
    """Authorizations with consumption, the active plan's units and a sort key, in one query.

    ``show="attention"``: approved and still valid, ending within ``EXPIRY_WARNING_DAYS`` or with
    fewer units left than the plan needs (or no unit or visit left); ``"all"``: every row."""
    from django.db.models import ExpressionWrapper, F, Q

    qs = with_consumption(qs).annotate(
        plan_units=_plan_units_subquery(),
        end_key=Coalesce("valid_until", Value(FAR_FUTURE)),
        units_left=ExpressionWrapper(
            F("units_approved") - F("units_used"),
            output_field=DecimalField(max_digits=9, decimal_places=2),
        ),
        visits_left=ExpressionWrapper(
            F("visits_approved") - F("visits_used"), output_field=IntegerField()
        ),
    )
    if show == "attention":
        qs = qs.filter(status=AuthStatus.APPROVED, valid_until__gte=today).filter(
            Q(valid_until__lte=today + timedelta(days=EXPIRY_WARNING_DAYS))
            | Q(units_left__lt=F("plan_units"))
            | Q(units_left__lte=0)
            | Q(visits_left__lte=0)
        )
    return qs.select_related("patient", "clinic")
