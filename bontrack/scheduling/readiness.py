"""Pre-treatment readiness for a list of appointments (day list, check-in). Fixed query count.

Checks: interval met (clinic_rules interval from the last signed session of the same indication;
a visit whose indication field is blank or not one of the patient's conditions treats the
patient's conditions), no open adverse effect, consent current (a signed session with consent
within `consent_valid_days`, clinic policy), diary up to date (an entry for each of the last
`diary_days_required` days, clinic policy, chronic migraine visits only), weight recent for children (within `child_weight_max_age_days`),
drug on hand (inventory: an in-stock vial of the product of the patient's last signed session —
or the default product for a first session — at the appointment's clinic, from a lot expiring
after the appointment date), authorization valid (an approved prior authorization of the
payer for each indication of the visit covering its day, not expiring within 30 days and with
the units the active plan needs: ``authorizations.selectors.coverage``, two queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from bontrack.authorizations.selectors import coverage
from bontrack.patients.models import WeightMeasurement
from bontrack.scheduling import facts
from bontrack.scheduling.availability import settings_for, zone
from bontrack.scheduling.models import Appointment, Kind


@dataclass(frozen=True)
class Check:
    label: str
    ok: bool | None  # None: not applicable / unknown
    detail: str = ""


def readiness(appointments: list[Appointment]) -> dict[int, list[Check]]:
    treatments = [a for a in appointments if a.appointment_type.kind == Kind.TREATMENT]
    if not treatments:
        return {}
    ids = sorted({a.patient_id for a in treatments})
    last = facts.last_signed_by_indication(ids)
    treated = facts.treated_indications(ids)
    open_ae = facts.open_adverse_effects(ids)
    consent = facts.consent_dates(ids)
    weights = dict(
        WeightMeasurement.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("measured_on"))
        .values_list("patient_id", "last")
    )
    clinic = treatments[0].clinic
    policy = settings_for(clinic)
    tz = zone(clinic)
    days = {a.starts_at.astimezone(tz).date() for a in treatments}
    products = facts.last_products(ids)
    stock = facts.vials_on_hand(sorted({a.clinic_id for a in treatments}), min(days))
    diary = facts.diary_days(
        ids, min(days) - timedelta(days=policy.diary_days_required), max(days) - timedelta(days=1)
    )
    planned = {
        (a.patient_id, ind, a.starts_at.astimezone(tz).date())
        for a in treatments
        for ind in facts.visit_indications(a.indication, treated.get(a.patient_id, []))
    }
    authorized = coverage(planned, timezone.now().astimezone(tz).date())
    out: dict[int, list[Check]] = {}
    for a in treatments:
        day = a.starts_at.astimezone(tz).date()
        checks = []
        indications = facts.visit_indications(a.indication, treated.get(a.patient_id, []))
        pediatric = facts.is_pediatric_on(a.patient.date_of_birth, day)
        earliest = [
            facts.due_dates(previous, facts.interval_for(ind, pediatric=pediatric), tz)[0]
            for ind in indications
            if (previous := last.get((a.patient_id, ind))) is not None
        ]
        if not earliest:
            checks.append(Check("Interval met", True, "first session"))
        else:
            checks.append(Check("Interval met", day >= max(earliest), f"from {max(earliest)}"))
        checks.append(Check("No open adverse effect", a.patient_id not in open_ae))
        given = consent.get(a.patient_id)
        checks.append(
            Check(
                "Consent current",
                given is not None
                and (day - given.astimezone(tz).date()).days <= policy.consent_valid_days,
                "renew at the visit" if given is None else f"last {given.astimezone(tz).date()}",
            )
        )
        if "chronic_migraine" in indications:
            checks.append(
                Check(
                    "Diary up to date",
                    diary.get(a.patient_id, 0) >= policy.diary_days_required,
                    f"last {policy.diary_days_required} days",
                )
            )
        if facts.is_pediatric_on(a.patient.date_of_birth, day):
            w = weights.get(a.patient_id)
            checks.append(
                Check(
                    "Weight recent",
                    w is not None and (day - w).days <= policy.child_weight_max_age_days,
                    f"last {w}" if w else "none recorded",
                )
            )
        product = next(
            (p for ind in indications if (p := products.get((a.patient_id, ind)))),
            facts.default_product(),
        )
        vials = sum(n for expiry, n in stock.get((a.clinic_id, product), ()) if expiry > day)
        checks.append(
            Check(
                "Drug on hand",
                vials > 0,
                f"{vials} vial{'s' if vials != 1 else ''} of {product} in stock",
            )
        )
        covers = [authorized[(a.patient_id, ind, day)] for ind in indications]
        if covers:
            warnings = [w for c in covers for w in c.warnings]
            checks.append(
                Check(
                    "Authorization valid",
                    not warnings,
                    " ".join(warnings) or "; ".join(c.detail for c in covers if c.detail),
                )
            )
        out[a.pk] = checks
    return out
