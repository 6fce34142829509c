"""Demo data: stocked lots and vials in both clinics, signed PREEMPT sessions for the chronic
migraine patients at every stage (``bontrack.ops.demo.diaries.DEMO_STAGES`` / ``DEMO_SESSIONS``),
response reviews (continue for the responder, stop for the non-responder), an open adverse
effect and a draft session for today. Bulk inserts; deterministic with the passed ``rng``.
"""

from __future__ import annotations

import random
import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic, Practice
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.ops.demo.signing import mark_signed
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.choices import AdverseEffectKind, Reporter, ReviewDecision
from bontrack.treatments.models import (
    AdverseEffect,
    Injection,
    PlanLine,
    ResponseReview,
    TreatmentPlan,
    TreatmentSession,
    VialUse,
)

# Demo NDCs of BOTOX 100 U and 200 U vials (NDC 0023-1145-01 is cited in the fact sheet, S29e).
# Stored in the 11-digit 5-4-2 billing form (inventory.ndc).
DEMO_LOTS = [("00023-1145-01", 100), ("00023-3921-02", 200)]
# The earlier 200 U lot the treatment history drew from; the inventory demo recalls it.
RECALLED_LOT_NUMBER = "C4471R"
STOCK_PER_LOT = 12


def _physician(practice: Practice, clinic: Clinic) -> User | None:
    qs = User.objects.filter(practice=practice, memberships__role=Role.PHYSICIAN)
    return qs.filter(memberships__clinic=clinic).first() or qs.first()


def _at(day: date, zone: zoneinfo.ZoneInfo, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def seed_demo_treatments(*, practice: Practice, rng: random.Random, today: date) -> dict[str, int]:
    from bontrack.ops.demo.diaries import DEMO_SESSIONS, DEMO_STAGES

    clinics = list(Clinic.objects.filter(practice=practice).order_by("pk"))
    lots = []
    for i, (ndc, size) in enumerate(DEMO_LOTS):
        lots.append(
            Lot.objects.create(
                practice=practice,
                ndc=ndc,
                lot_number=f"C{rng.randint(1000, 9999)}C{i}",
                expiry=today + timedelta(days=300 + 60 * i),
                size_units=size,
            )
        )
    Vial.objects.bulk_create(
        [Vial(lot=lot, clinic=c) for c in clinics for lot in lots for _ in range(STOCK_PER_LOT)]
    )
    big = lots[-1]
    older = Lot.objects.create(
        practice=practice,
        ndc=DEMO_LOTS[1][0],
        lot_number=RECALLED_LOT_NUMBER,
        expiry=today + timedelta(days=200),
        size_units=200,
    )
    per_site = facts.units_per_site()
    template = facts.preempt_site_rows()
    patients = {
        p.mrn: p
        for p in Patient.objects.filter(
            practice=practice, mrn__in=DEMO_STAGES.values()
        ).select_related("clinic")
    }
    counts = {"sessions": 0, "reviews": 0}
    for stage, mrn in DEMO_STAGES.items():
        patient = patients.get(mrn)
        if patient is None:
            continue
        zone = zoneinfo.ZoneInfo(patient.clinic.time_zone)
        doctor = _physician(practice, patient.clinic)
        offsets = DEMO_SESSIONS.get(stage, [])
        if not offsets and stage != "eligible":
            continue
        # The physician's plan is the order (signed when saved).
        plan = TreatmentPlan.objects.create(
            patient=patient,
            clinic=patient.clinic,
            created_by=doctor,
            note="PREEMPT",
            ordered_by=doctor,
            ordered_at=timezone.now() if doctor is not None else None,
        )
        PlanLine.objects.bulk_create(
            [
                PlanLine(
                    plan=plan,
                    muscle=r["muscle"],
                    side=r["side"],
                    sites=r["sites"],
                    units=Decimal(str(r["units"])),
                    position=i,
                )
                for i, r in enumerate(facts.preempt_rows())
            ]
        )
        for offset in offsets:
            day = today + timedelta(days=offset)
            performed = _at(day, zone, 10 + rng.randint(0, 5))
            session = TreatmentSession.objects.create(
                patient=patient,
                clinic=patient.clinic,
                indication=plan.indication,
                indications=[plan.indication],
                performed_at=performed,
                plan=plan,
                consent_obtained=True,
                medication_guide_offered=True,
                created_by=doctor,
            )
            Injection.objects.bulk_create(
                [
                    Injection(
                        session=session,
                        indication=plan.indication,
                        muscle=r["muscle"],
                        side=r["side"],
                        units=per_site,
                        position=i,
                    )
                    for i, r in enumerate(template)
                ]
            )
            units = Injection.objects.filter(session=session).aggregate(u=Sum("units"))["u"]
            VialUse.objects.create(
                vial=Vial.objects.create(
                    lot=big, clinic=patient.clinic, status=VialStatus.USED, patient=patient
                ),
                session=session,
                reconstituted_at=performed - timedelta(minutes=40),
                diluent_ml=facts.cm_diluent_ml(big.size_units),
                units_used=units,
                units_wasted=Decimal(big.size_units) - units,
                opened_by=doctor,
            )
            mark_signed(session, doctor, performed + timedelta(minutes=30))
            counts["sessions"] += 1
        if stage in ("responder", "non_responder") and len(offsets) >= facts.review_min_cycles():
            decision = ReviewDecision.CONTINUE if stage == "responder" else ReviewDecision.STOP
            as_of = today + timedelta(
                days=offsets[facts.review_min_cycles() - 1]
                + facts.retreatment_interval_days(facts.response_indication())
                - 1
            )
            as_of = min(as_of, today)
            result = facts.run_response(patient, as_of) or {"cycles": []}
            rec = (result.get("cycles") or [{}])[-1].get("recommendation", "")
            ResponseReview.objects.create(
                patient=patient,
                clinic=patient.clinic,
                decision=decision,
                reason=""
                if decision == ReviewDecision.CONTINUE
                else "No meaningful reduction in headache days after two cycles.",
                cycles=facts.review_min_cycles(),
                as_of=as_of,
                response_rule_set=str(result.get("response_rule_set", "")),
                rule_set=",".join(result.get("rule_sets") or []),
                recommendation=str(rec),
                result=result,
                reviewed_by=doctor,
                reviewed_at=_at(as_of, zone, 16),
            )
            counts["reviews"] += 1
            if decision == ReviewDecision.STOP:
                TreatmentPlan.objects.filter(pk=plan.pk).update(active=False)
    from bontrack.ops.demo.treatment_history import seed_history  # it uses _at, _physician

    counts["history"] = seed_history(
        practice=practice,
        rng=rng,
        today=today,
        exclude=set(DEMO_STAGES.values()),
        lot_by_size={100: lots[0], 200: older},
    )
    from bontrack.ops.demo.treatment_history import seed_awaiting_cosign

    counts["awaiting_cosign"] = seed_awaiting_cosign(
        practice=practice, today=today, exclude=set(DEMO_STAGES.values()), lot=big
    )
    from bontrack.ops.demo.dosing import seed_demo_dosing  # issue 10 items 3-5

    counts |= {
        f"dosing_{k}": v
        for k, v in seed_demo_dosing(practice=practice, today=today, lot=big).items()
    }
    # An open adverse effect after cycle one, reported in the portal check-in.
    after_one = patients.get(DEMO_STAGES.get("after_cycle_1", ""))
    if after_one is not None:
        last = TreatmentSession.objects.filter(patient=after_one, status="signed").first()
        if last is not None:
            AdverseEffect.objects.create(
                patient=after_one,
                session=last,
                kind=AdverseEffectKind.NECK_WEAKNESS,
                detail="Hard to hold my head up in the evenings for about a week.",
                reported_at=last.performed_at + timedelta(days=16),
                reported_by=Reporter.PATIENT,
            )
    # A draft session for today: the responder is due for the next cycle.
    responder = patients.get(DEMO_STAGES.get("responder", ""))
    if responder is not None:
        doctor = _physician(practice, responder.clinic)
        if doctor is not None:
            zone = zoneinfo.ZoneInfo(responder.clinic.time_zone)
            when = min(_at(today, zone, 9), timezone.now())
            draft_indication = facts.follow_the_pain_indication()
            draft = TreatmentSession.objects.create(
                patient=responder,
                clinic=responder.clinic,
                indication=draft_indication,
                indications=[draft_indication],
                performed_at=when,
                plan=TreatmentPlan.objects.filter(patient=responder, active=True).first(),
                created_by=doctor,
            )
            Injection.objects.bulk_create(
                [
                    Injection(
                        session=draft,
                        indication=draft_indication,
                        muscle=r["muscle"],
                        side=r["side"],
                        units=per_site,
                        position=i,
                    )
                    for i, r in enumerate(template)
                ]
            )
    return counts
