"""Demo prior authorizations (issue 12): an approval for most treated patients, and the cases the
billing office and the front desk must see:

- one patient whose approval is running out of units (fewer left than the active plan needs),
- one whose approval expires within 30 days,
- one with a treatment booked and no authorization at all (the warning at check-in),
- a request waiting for the payer and a denial.

Each special case is a patient with a treatment booked in the coming weeks, so the warning shows
on the recall list, in the slot finder and at check-in. Bulk inserts; deterministic with ``rng``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from bontrack.authorizations import selectors
from bontrack.authorizations.choices import AuthStatus
from bontrack.authorizations.models import Authorization
from bontrack.core.models import Practice
from bontrack.scheduling.models import Appointment, Kind, Status
from bontrack.treatments.choices import GIVEN_STATUSES
from bontrack.treatments.models import TreatmentPlan, TreatmentSession

PAYERS = [
    ("Blue Lake Health Plan", "BLHP1"),
    ("Midwest Mutual", "MWM42"),
    ("Medicare Part B (Jurisdiction 8)", "MCR08"),
    ("Great Plains Care", "GPC77"),
]
DEMO_CASES = ("missing", "running_out", "expiring", "requested", "denied")


def seed_demo_authorizations(
    *, practice: Practice, rng: random.Random, today: date
) -> dict[str, int]:
    """Returns the patient id of each special case (``DEMO_CASES``)."""
    booked = list(
        Appointment.objects.filter(
            practice=practice,
            status=Status.BOOKED,
            appointment_type__kind=Kind.TREATMENT,
            starts_at__gte=timezone.now(),
        )
        .exclude(indication="")
        .order_by("starts_at", "id")
        .values_list("patient_id", "indication")
    )
    planned: dict[int, str] = {}
    for pid, ind in booked:
        planned.setdefault(pid, ind)
    plans = {
        (pid, ind)
        for pid, ind in TreatmentPlan.objects.filter(
            patient__practice=practice, active=True
        ).values_list("patient_id", "indication")
    }
    treated: dict[tuple[int, str], date] = {}
    for pid, ind, at in (
        TreatmentSession.objects.filter(patient__practice=practice, status__in=GIVEN_STATUSES)
        .order_by("performed_at")
        .values_list("patient_id", "indication", "performed_at")
    ):
        treated.setdefault((pid, ind), at.date())
    clinic_of = dict(
        practice.patients.values_list("id", "clinic_id")  # type: ignore[attr-defined]
    )
    cases: dict[str, int] = {}
    # Running out: a booked patient with an active plan; the others: booked patients in order.
    for pid, ind in planned.items():
        if (pid, ind) in plans and "running_out" not in cases:
            cases["running_out"] = pid
    if "running_out" not in cases:
        # No booked patient has a plan: the first treated patient with one.
        candidate = next((k for k in sorted(plans) if k in treated), None)
        if candidate is not None:
            cases["running_out"] = candidate[0]
            planned.setdefault(candidate[0], candidate[1])
    for pid in planned:
        if pid in cases.values():
            continue
        for case in ("missing", "expiring", "requested", "denied"):
            if case not in cases:
                cases[case] = pid
                break
    rows: list[Authorization] = []
    n = 0
    keys = set(treated) | set(planned.items())
    for pid, indication in sorted(keys):
        ind = indication
        special = next((c for c, p in cases.items() if p == pid), None)
        if special == "missing":
            continue
        payer, payer_id = PAYERS[pid % len(PAYERS)]
        first = treated.get((pid, ind), today)
        start = max(first, today - timedelta(days=300)) - timedelta(days=7)
        n += 1
        auth = Authorization(
            patient_id=pid,
            clinic_id=clinic_of[pid],
            payer_name=payer,
            payer_id=payer_id,
            indication=ind,
            number=f"PA{today:%y}-{40000 + n * 37 + rng.randint(0, 30)}",
            status=AuthStatus.APPROVED,
            units_approved=800 if ind == "chronic_migraine" else 1200,
            visits_approved=4,
            valid_from=start,
            valid_until=start + timedelta(days=364),
            note="",
        )
        if auth.valid_until is not None and auth.valid_until < today + timedelta(days=60):
            auth.valid_until = today + timedelta(days=180 + rng.randint(0, 60))
        if special == "expiring":
            auth.valid_until = today + timedelta(days=18)
        elif special == "requested":
            auth.status = AuthStatus.REQUESTED
            auth.number = ""
            auth.units_approved = auth.visits_approved = None
            auth.valid_from = auth.valid_until = None
            auth.note = "Faxed with the initial packet; the payer answers within 14 days."
        elif special == "denied":
            auth.status = AuthStatus.DENIED
            auth.note = "Denied: the payer asks for two preventive classes tried first."
        rows.append(auth)
    Authorization.objects.bulk_create(rows)
    running = cases.get("running_out")
    if running is not None:
        # Approve exactly what was used plus half of one plan: fewer units left than needed.
        low = planned[running]
        found = selectors.with_consumption(
            Authorization.objects.filter(patient_id=running, indication=low)
        ).first()
        need = selectors.plan_units([(running, low)]).get((running, low))
        if found is not None and need is not None:
            Authorization.objects.filter(pk=found.pk).update(
                units_approved=int(found.units_used + need / 2)  # type: ignore[attr-defined]
            )
    return cases
