"""Billing reports: units given and wasted per product, clinic and month; sessions and codes per
month; their CSVs carry the same figures and are audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.claims.actions.generate import create_claim

from .conftest import cover, diagnose, profile, session

pytestmark = pytest.mark.django_db
CD = "cervical_dystonia"


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_units_sessions_and_codes(world):
    profile(world.practice)
    cover(world.patient)
    diagnose(world.patient, CD, "G24.3")
    when = timezone.now() - timedelta(days=2)
    create_claim(
        session(world.patient, [(CD, "scalenes", "left", 155)], [200], performed_at=when), None
    )
    create_claim(
        session(
            world.patient,
            [(CD, "scalenes", "right", 200)],
            [100, 100],
            performed_at=when - timedelta(days=1),
        ),
        None,
    )
    client = world.client("clinic_admin")
    month = timezone.localtime(when).strftime("%Y-%m")
    units = _rows(client.get("/claims/reports/units.csv"))
    assert units[1] == ["Month", "Product", "Clinic", "Vials", "Units given", "Units wasted"]
    assert units[2:] == [[month, "onabotulinumtoxinA", "Clinic A1", "3", "355.0", "45.0"]]
    sessions = _rows(client.get("/claims/reports/sessions.csv"))
    assert sessions[2][:3] == [month, "2", "2"]
    codes = {r[1]: r[2:] for r in _rows(client.get("/claims/reports/codes.csv"))[2:]}
    assert codes["64616"] == ["2", "2", "2.0"]
    assert codes["J0585"] == ["2", "3", "400.0"]  # 155 + 45 wasted, 200 given
    assert AuditEvent.objects.filter(action="export", object_type="claims.reports").count() == 3
    page = client.get("/claims/reports/")
    assert page.status_code == 200
    assert page.content.decode().count('class="chart-') >= 3
    assert client.get("/claims/reports/nope.csv").status_code == 404
    assert client.get("/claims/reports/?from=0").status_code == 404
