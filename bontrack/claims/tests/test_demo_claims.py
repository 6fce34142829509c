"""The demo: every signed session has its claim with lines, every queue state is present, and
pyx12 validates every demo batch without error."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bontrack.claims import x12
from bontrack.claims.choices import QUEUE_STATES
from bontrack.claims.models import Claim, ClaimBatch
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
