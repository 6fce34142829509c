"""Issue 10 item 8: a drooping eyelid after a chronic migraine session suggests a review of the
frontalis sites (advisory: not on the fact sheet). Chronic migraine has no scale review page, so
the suggestion is stored when the effect is recorded and decided on the chart's treatment panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.treatments.actions import follow_up
from bontrack.treatments.models import TreatmentPlan
from bontrack.treatments.scale_models import AdjustmentSuggestion

from .conftest import signed

pytestmark = pytest.mark.django_db
RULE = "SUGGEST-CM-PTOSIS-FRONTALIS"


def test_ptosis_after_migraine_is_suggested_shown_on_the_chart_and_accepted(world, nurse):
    session = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=14))
    assert not AdjustmentSuggestion.objects.exists()
    # Another effect brings nothing.
    follow_up.record_adverse_effect(actor=nurse, session=session, kind="neck_pain")
    assert not AdjustmentSuggestion.objects.exists()
    follow_up.record_adverse_effect(actor=nurse, session=session, kind="ptosis", detail="Left lid")
    (s,) = AdjustmentSuggestion.objects.all()
    assert (s.rule_id, s.indication, s.session_id, s.status) == (
        RULE,
        "chronic_migraine",
        session.pk,
        "open",
    )
    assert not s.confirmed and "frontalis" in s.reason.lower()
    assert AuditEvent.objects.filter(
        object_type="treatments.adjustmentsuggestion", action="create"
    ).exists()
    # Recording it again does not store it twice.
    follow_up.record_adverse_effect(actor=nurse, session=session, kind="ptosis")
    assert AdjustmentSuggestion.objects.count() == 1

    panel = f"/treatments/patients/{world.patient.pk}/panel/"
    seen = world.client("nurse").get(panel).content.decode()
    assert "Review the frontalis sites" in seen and "Advisory" in seen
    assert "A physician accepts or rejects suggestions." in seen
    page = world.client("physician").get(panel).content.decode()
    assert f"/treatments/suggestions/{s.pk}/" in page or "suggestion-form" in page

    response = world.client("physician").post(
        f"/treatments/suggestions/{s.pk}/decide/", {"decision": "accept", "note": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{world.patient.pk}/"
    s.refresh_from_db()
    assert s.status == "accepted" and s.plan_id is not None
    plan = TreatmentPlan.objects.get(pk=s.plan_id)
    assert plan.active and plan.indication == "chronic_migraine"
    assert "Review the frontalis sites" in plan.note
    # Decided: the panel no longer offers it; the active plan carries its note.
    after = world.client("physician").get(panel).content.decode()
    assert "Adjustment suggestions after an adverse effect" not in after
    assert "suggestion-form" not in after and "Accepted suggestion: Review the frontalis" in after
