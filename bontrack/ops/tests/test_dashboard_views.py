"""The dashboard page, its CSV exports and click-through: who may see them, what they list,
what they audit, and a query count that does not grow with the data."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.ops.dashboard import refresh
from bontrack.ops.tests import dashboard_data as data
from bontrack.scheduling.tests.conftest import sched  # noqa: F401 - the scheduling fixture
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

PERIOD = "from=2025-06&to=2026-05"
# Staff of clinic A2 and of practice B see their own clinic's and practice's dashboard.
PAGE = permission_matrix(
    Perm.DASHBOARD_VIEW, ok=200, other_clinic_staff=200, other_practice_staff=200
)


@pytest.fixture
def program(world, sched):  # noqa: F811
    data.build(world, sched)
    with time_machine.travel(data.NOW, tick=False):
        refresh.run_marked(100)
    return world


@time_machine.travel(data.NOW, tick=False)
@pytest.mark.parametrize("persona,expected", PAGE.items())
def test_the_dashboard_over_every_persona(world, persona, expected):
    response = world.client(persona).get(f"/dashboard/?{PERIOD}")
    assert response.status_code == expected
    if expected == 200:
        for title in ("Patients by stage", "Responders after two cycles", "No-shows"):
            assert title in response.content.decode()


@time_machine.travel(data.NOW, tick=False)
@pytest.mark.parametrize("persona,expected", PAGE.items())
def test_the_click_through_over_every_persona(world, persona, expected):
    before = AuditEvent.objects.exclude(outcome="denied").count()
    response = world.client(persona).get(f"/dashboard/patients/?{PERIOD}&metric=stage&key=early")
    assert response.status_code == expected
    if expected != 200:
        assert AuditEvent.objects.exclude(outcome="denied").count() == before


@time_machine.travel(data.NOW, tick=False)
def test_the_click_through_lists_the_patients_behind_the_number_and_audits_each(program):
    client = program.client("physician")
    page = client.get(f"/dashboard/?{PERIOD}").content.decode()
    assert (
        "/dashboard/patients/?from=2025-06&amp;to=2026-05&amp;metric=responder&amp;key=yes" in page
    )
    response = client.get(f"/dashboard/patients/?{PERIOD}&metric=responder&key=yes")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cohen, Rosa" in body and "Green, Adam" not in body
    rows = AuditEvent.objects.filter(action="view", summary__contains="program dashboard")
    assert [(r.patient_id, r.actor_id) for r in rows] == [
        (program.patient.pk, program.users["physician"].pk)
    ]
    missed = client.get(f"/dashboard/patients/?{PERIOD}&metric=visits&key=no_show")
    assert "Green, Adam" in missed.content.decode()
    assert "Cohen, Rosa" not in missed.content.decode()
    # Clinic A2's physician reaches neither patient through the click-through.
    other = program.client("other_clinic_staff")
    assert (
        "Cohen"
        not in other.get(f"/dashboard/patients/?{PERIOD}&metric=responder&key=yes").content.decode()
    )


@time_machine.travel(data.NOW, tick=False)
def test_bad_filters_are_refused_or_ignored_never_500(program):
    client = program.client("clinic_admin")
    other_practice = program.other_practice_clinic.pk
    assert client.get(f"/dashboard/?clinic={other_practice}").status_code == 404
    assert client.get("/dashboard/?from=0&to=２０２６-01&clinic=x&physician=%00").status_code == 200
    assert client.get("/dashboard/patients/?metric=drop&key=x").status_code == 404
    assert client.get("/dashboard/patients/?metric=stage&key=x").status_code == 404
    assert client.get("/dashboard/patients/?metric=stage&key=early&cursor=zz").status_code == 404
    assert client.get("/dashboard/export/nothing.csv").status_code == 404
    # A clinic-bound physician cannot filter on another clinic.
    other = program.other_clinic.pk
    assert program.client("physician").get(f"/dashboard/?clinic={other}").status_code == 404


@time_machine.travel(data.NOW, tick=False)
def test_each_figure_exports_its_table_as_csv_and_the_export_is_audited(program):
    client = program.client("clinic_admin")
    response = client.get(f"/dashboard/export/noshows.csv?{PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines == [
        "Period,2025-06 to 2026-05",
        "Appointments,Count,Share (%)",
        "Missed,1,50.0",
        "Attended,1,50.0",
    ]
    event = AuditEvent.objects.get(action="export", object_type="ops.dashboard")
    assert event.object_id == "noshows"


def _count(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/dashboard/?{PERIOD}").status_code == 200
    return len(ctx.captured_queries)


@time_machine.travel(data.NOW, tick=False)
def test_the_dashboard_query_count_does_not_grow_with_the_data(world, sched):  # noqa: F811
    client = world.client("clinic_admin")
    client.get(f"/dashboard/?{PERIOD}")  # warm the session and the chart cache
    empty = _count(client)
    data.build(world, sched)
    refresh.run_marked(100)
    assert _count(client) == empty
