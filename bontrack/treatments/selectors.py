"""Read models: a session as its screen, its procedure note (HTML and PDF) and the API show it.

``session_view`` / ``session_views`` fetch a session's injections, vials (of its amendment chain)
and decisions once, in a fixed number of queries however many sites it has, and take its dose
check from the session when it is stored for the state shown: a signed session's, or the value
the charting action of this very request stored on the draft. A draft opened afresh is checked
here (once) so that a flag or a weight recorded since is taken into account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from bontrack.accounts.models import Scope
from bontrack.treatments import facts
from bontrack.treatments.actions.vials import chain_ids
from bontrack.treatments.choices import InjectionStatus, SessionStatus
from bontrack.treatments.models import FindingDecision, Injection, TreatmentSession, VialUse

SESSION_RELATED = (
    "patient",
    "patient__clinic",
    "clinic",
    "signed_by",
    "amends",
    "plan",
    "plan__clinic_protocol",
)


@dataclass(frozen=True)
class SessionView:
    session: TreatmentSession
    injections: list[Injection]
    vials: list[VialUse]
    decisions: list[FindingDecision]
    just_checked: bool = False

    @cached_property
    def check(self) -> facts.DoseCheck:
        """The stored dose check of a signed session, or of a draft whose change just stored it
        (``just_checked``); otherwise a draft's check runs here, once, on what was fetched."""
        if self.session.status != SessionStatus.DRAFT:
            return facts.DoseCheck.stored(self.session)
        if self.just_checked and self.session.rule_set:
            return facts.DoseCheck.stored(self.session)
        return facts.dose_check(self.session, self.injections, self.vials)

    @property
    def done(self) -> list[Injection]:
        return [i for i in self.injections if i.status == InjectionStatus.DONE]

    @property
    def units_done(self) -> Decimal:
        return sum((i.units for i in self.done), Decimal(0))

    @property
    def sites_done(self) -> int:
        return sum(i.sites for i in self.done)

    @property
    def result(self) -> dict[str, Any]:
        """The dose check in the plain form templates and the API render."""
        return self.check.as_result()


def _sessions(queryset: Any) -> Any:
    return queryset.select_related(*SESSION_RELATED).prefetch_related(
        "injections", Prefetch("decisions", FindingDecision.objects.select_related("decided_by"))
    )


def session_views(sessions: Sequence[TreatmentSession]) -> list[SessionView]:
    """The read model of several sessions (same order), in a fixed number of queries."""
    ids = [s.pk for s in sessions]
    rows = {s.pk: s for s in _sessions(TreatmentSession.objects.filter(pk__in=ids))}
    return _build([rows[pk] for pk in ids])


def _decisions(session: TreatmentSession) -> list[FindingDecision]:
    if "decisions" in getattr(session, "_prefetched_objects_cache", {}):
        return list(session.decisions.all())
    return list(session.decisions.select_related("decided_by"))


def _build(rows: list[TreatmentSession], *, just_checked: bool = False) -> list[SessionView]:
    chains = chain_ids(rows)
    by_session: dict[int, list[VialUse]] = {}
    for v in (
        VialUse.objects.filter(session_id__in={i for chain in chains.values() for i in chain})
        .select_related("vial__lot")
        .order_by("vial_id")
    ):
        by_session.setdefault(v.session_id, []).append(v)
    out = []
    for session in rows:
        injections = list(session.injections.all())
        chain = chains[session.pk]
        vials = sorted((v for i in chain for v in by_session.get(i, [])), key=lambda v: v.pk)
        out.append(
            SessionView(
                session=session,
                injections=injections,
                vials=vials,
                decisions=_decisions(session),
                just_checked=just_checked,
            )
        )
    return out


def view_of(session: TreatmentSession, *, just_checked: bool = False) -> SessionView:
    """The read model of a session already fetched (its rows are fetched here, once).

    ``just_checked``: a charting action just ran and stored the draft's dose check (an HTMX
    change): render that value instead of running the rules again.
    """
    return _build([session], just_checked=just_checked)[0]


def session_view(session_id: int, scope: Scope | None) -> SessionView:
    """One session the scope reaches (404 otherwise), as its screens show it."""
    session = get_object_or_404(_sessions(TreatmentSession.objects.in_scope(scope)), pk=session_id)
    return _build([session])[0]


# ---- the physician's co-signature worklist -----------------------------------------------------

COSIGN_PAGE = 20  # sessions per worklist page


def cosign_worklist(scope: Scope, cursor: str | None, size: int = COSIGN_PAGE) -> Any:
    """Sessions awaiting a physician's co-signature in ``scope``, newest signature first (keyset
    pages, a fixed number of queries: the rows with their patient, clinic, signer and order, and
    the units given). Raises ``core.pagination.BadCursor`` on a forged cursor."""
    from django.db.models import Q, Sum

    from bontrack.core.pagination import keyset_page

    qs = (
        TreatmentSession.objects.in_scope(scope)
        .awaiting_cosign()
        .select_related("patient", "clinic", "signed_by", "plan__ordered_by")
        .annotate(
            units_given=Sum("injections__units", filter=Q(injections__status=InjectionStatus.DONE))
        )
    )
    return keyset_page(qs, fields=("signed_at", "id"), cursor=cursor, size=size, descending=True)


def cosign_count(scope: Scope) -> int:
    return TreatmentSession.objects.in_scope(scope).awaiting_cosign().count()
