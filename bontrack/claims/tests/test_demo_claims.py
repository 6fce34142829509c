"""The demo: every signed session has its claim with lines, every queue state is present, pyx12
validates every demo batch without error, coverage comes from the registrations, and a child on a
parent's plan goes out as the subscriber's dependent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bontrack.claims import x12
from bontrack.claims.choices import QUEUE_STATES
from bontrack.claims.models import Claim, ClaimBatch, Coverage
from bontrack.ops.seed import seed_demo
from bontrack.treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db


def test_demo_claims_and_batches():
    seed_demo(today=timezone.localdate(), patients=40, seed=2026)
    signed = set(TreatmentSession.objects.claimable().values_list("pk", flat=True))
    assert signed == set(Claim.objects.values_list("session_id", flat=True))
    assert not Claim.objects.filter(lines__isnull=True).exists()
    states = set(Claim.objects.values_list("status", flat=True))
    assert {s.value for s in QUEUE_STATES} <= states
    batches = list(ClaimBatch.objects.all())
    assert batches
    for batch in batches:
        assert x12.validate(batch.x12_text) == [], batch.pk
    waste = {bool(c.totals.get("units_wasted")) for c in Claim.objects.all()}
    assert waste == {True, False}  # sessions with and without waste
    indications = {i for c in Claim.objects.all() for i in c.indications}
    assert len(indications) >= 4
    # Every demo coverage comes from its registration (nothing typed twice).
    for cov in Coverage.objects.select_related("patient"):
        p = cov.patient
        assert (cov.payer_name, cov.member_id) == (p.insurance_payer, p.insurance_member_id)
        assert cov.group_number == p.insurance_group and cov.address == p.address_line1
    child = Coverage.objects.filter(subscriber_relationship="parent").select_related("patient")
    exported = Claim.objects.filter(
        patient__in=[c.patient for c in child], batch__isnull=False
    ).select_related("batch", "patient")
    assert exported, "no dependent child's claim in a demo batch"
    claim = exported[0]
    cov = Coverage.objects.get(patient=claim.patient)
    assert cov.subscriber_last_name and cov.subscriber_last_name == claim.patient.last_name
    text = claim.batch.x12_text
    assert x12.validate(text) == []
    assert "PAT*19~" in text
    assert (
        f"NM1*IL*1*{x12.clean(cov.subscriber_last_name)}*{x12.clean(cov.subscriber_first_name)}"
        in text
    )
