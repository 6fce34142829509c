"""The queue, a claim and the reports answer in a fixed number of queries whatever the data size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.claims.actions.generate import create_claim
from bontrack.factories import PatientFactory

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"


def _claims(world, n: int) -> None:
    profile(world.practice)
    for _ in range(n):
        p = PatientFactory(clinic=world.clinic)
        cover(p)
        diagnose(p, CD, "G24.3")
        create_claim(session(p, [(CD, "scalenes", "bilateral", 50)], [100]), None)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url", ["/claims/", "/claims/?state=attention", "/claims/reports/", "/claims/batches/"]
)
def test_list_pages_do_not_grow_with_the_claims(world, url):
    client = world.client("billing")
    _claims(world, 2)
    small = _count(client, url)
    _claims(world, 12)
    assert _count(client, url) == small


def test_a_claim_page_is_a_fixed_number_of_queries(world):
    client = world.client("billing")
    _claims(world, 1)
    from bontrack.claims.models import Claim

    first = Claim.objects.order_by("id").first()
    small = _count(client, f"/claims/{first.pk}/")
    _claims(world, 6)
    assert _count(client, f"/claims/{first.pk}/") == small
