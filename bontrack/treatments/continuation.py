"""Where a treated patient is (registered with ``bontrack.diaries.hooks``): the chart's program
panel shows this instead of the initiation criteria once the first session of the indication is
signed.

Cycle: the number of signed sessions that treated the indication (a session of several indications
counts for each). Next due: ``follow_up.next_due`` of the last one. Next response review (chronic
migraine, the indication the response rules measure): the continuation decision is taken after
``RESP-AHS-ASSESS-2-CYCLES`` cycles (clinic_rules), before the next re-treatment, then again
before each later one; a review recorded since the last session moves it one cycle on.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from bontrack.diaries.hooks import Continuation
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.actions import follow_up
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import ResponseReview, TreatmentSession

# clinic_rules Recommendation codes in words (never shown as codes).
RECOMMENDATION_WORDS = {
    "continue": "continue treatment",
    "consider_stopping": "consider stopping",
    "stop": "stop treatment",
    "too_early": "too early to judge",
}


def continuation_state(patient: Patient, indication: str, today: date) -> Continuation | None:
    sessions = [
        s
        for s in TreatmentSession.objects.filter(patient=patient, status__in=GIVEN_STATUSES)
        .select_related("clinic")
        .order_by("performed_at", "id")
        if indication in (s.indications or [s.indication])
    ]
    if not sessions:
        return None
    first, last = sessions[0], sessions[-1]
    next_due = follow_up.next_due(last)
    cycle = len(sessions)
    last_day = _local_day(last)
    next_review: date | None = None
    response: str | None = None
    response_ok: bool | None = None
    last_review: str | None = None
    if indication == facts.response_indication():
        interval = timedelta(days=facts.retreatment_interval_days(indication))
        review = (
            ResponseReview.objects.filter(patient=patient, indication=indication)
            .select_related("reviewed_by")
            .first()
        )
        min_cycles = facts.review_min_cycles()
        if cycle < min_cycles:
            next_review = next_due + (min_cycles - cycle) * interval
        elif review is not None and timezone.localdate(review.reviewed_at) >= last_day:
            next_review = next_due + interval
        else:
            next_review = next_due
        if review is not None:
            who = review.reviewed_by.get_full_name() or review.reviewed_by.username
            last_review = (
                f"{review.get_decision_display()} after {review.cycles} cycles, "
                f"{timezone.localdate(review.reviewed_at):%Y-%m-%d} by {who}"
            )
        response, response_ok = _response_so_far(facts.run_response(patient, today))
    return Continuation(
        indication=indication,
        cycle=cycle,
        first_session=_local_day(first),
        last_session=last_day,
        next_due=next_due,
        next_review=next_review,
        response=response,
        response_ok=response_ok,
        last_review=last_review,
    )


def _local_day(session: TreatmentSession) -> date:
    return timezone.localtime(session.performed_at, facts._zone(session.clinic.time_zone)).date()


def _response_so_far(result: dict[str, Any] | None) -> tuple[str | None, bool | None]:
    """One sentence on the latest cycle the rules could judge (else why they could not yet)."""
    if not result or not result.get("cycles"):
        return "No response yet: it needs the diary around the sessions.", None
    cycles = result["cycles"]
    judged = [c for c in cycles if c.get("recommendation") not in (None, "too_early")]
    if not judged:
        latest = cycles[-1]
        return (
            f"Too early to judge after cycle {latest['cycle']}: {latest.get('reason', '')}.",
            None,
        )
    c = judged[-1]
    rec = str(c["recommendation"])
    change = c.get("headache_day_change_pct")
    words = RECOMMENDATION_WORDS.get(rec, rec.replace("_", " "))
    parts = [f"Cycle {c['cycle']}"]
    if change is not None:
        parts.append(f"{float(change):+.0f}% headache days vs baseline")
    sentence = ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
    said = str(c.get("reason") or "").strip().rstrip(".")
    reason = f" ({said[:1].lower()}{said[1:]})" if said else ""
    return f"{sentence}; the rules say {words}{reason}.", rec == "continue"
