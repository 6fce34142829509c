"""The demo shows outcome scales, a cycle review with an accepted adjustment and an open suggestion."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from bontrack.treatments.models import (
    AdjustmentSuggestion,
    ResponseReview,
    ScaleEntry,
    TreatmentPlan,
    TreatmentSession,
    WearingOff,
)

pytestmark = pytest.mark.django_db


def test_demo_has_scales_reviews_and_suggestions(capsys):
    call_command("demo", no_serve=True, patients=90)
    capsys.readouterr()
    entries = ScaleEntry.objects.filter(patient__practice__slug="demo")
    assert set(entries.values_list("indication", flat=True)) == {
        "cervical_dystonia",
        "blepharospasm",
        "upper_limb_spasticity",
        "lower_limb_spasticity",
    }
    assert set(entries.values_list("instrument", flat=True)) == {
        "twstrs",
        "tsui",
        "jankovic",
        "bdi",
        "mas",
        "gas",
    }
    accepted = AdjustmentSuggestion.objects.get(status="accepted")
    # The review's "continue" wrote the next plan on top of the accepted suggestion's plan.
    active = TreatmentPlan.objects.get(
        patient=accepted.patient, indication=accepted.indication, active=True
    )
    assert active.based_on_id == accepted.plan_id and active.review_id is not None
    scm = {ln.side: ln.units for ln in active.lines.all() if ln.muscle == "sternocleidomastoid"}
    assert scm == {"left": 50, "right": 50}
    assert AdjustmentSuggestion.objects.filter(
        status="open", rule_id="SUGGEST-BLEPH-SHORT-EFFECT"
    ).exists()
    review = ResponseReview.objects.get(response_rule_set="scales")
    assert review.decision == "continue" and review.indication == "cervical_dystonia"
    assert review.patient.portal_account.user.username == "patient.three"
    assert WearingOff.objects.exists()
    # patient.three answered the TWSTRS disability items and pain in the portal.
    own = ScaleEntry.objects.get(patient=review.patient, entered_by_patient=True)
    assert own.instrument == "twstrs" and len(own.result["disability_items"]) == 6
    assert own.result["subscales"] == {"disability": 10, "pain": 7}
    # Every scale patient's sessions have their vials drawn into them.
    sessions = TreatmentSession.objects.filter(patient__scale_entries__isnull=False).distinct()
    assert sessions.count() == 12 and not sessions.filter(vial_uses__isnull=True).exists()
    # A demo child's newest weight is a child's (the registry's adult weights were cleared when
    # the chart was re-aged): its U/kg figures are a child's.
    from bontrack.patients.models import WeightMeasurement

    for patient in {s.patient for s in sessions.select_related("patient")}:
        if (timezone.localdate() - patient.date_of_birth).days < 18 * 365:
            newest = WeightMeasurement.objects.filter(patient=patient).latest("measured_on")
            assert newest.weight_kg < 40, (patient.mrn, newest.weight_kg)
    # A drooping eyelid after a chronic migraine session: its advisory suggestion is open for
    # the physician on the chart's treatment panel.
    ptosis = AdjustmentSuggestion.objects.get(rule_id="SUGGEST-CM-PTOSIS-FRONTALIS")
    assert ptosis.status == "open" and not ptosis.confirmed
    assert ptosis.session.adverse_effects.filter(kind="ptosis").exists()
