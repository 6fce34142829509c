"""50 concurrent bookings of one slot over real HTTP: exactly one 201, the rest 409, no 5xx.

PostgreSQL only: pytest-django's SQLite test database lives in memory and the live server
shares one connection between its request threads, which cannot model concurrent writers.
The SQLite guarantee (triggers + IMMEDIATE transactions) is covered in test_no_double_booking.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection

from bontrack.accounts.models import ApiToken, hash_token_secret
from bontrack.factories import PatientFactory
from bontrack.scheduling.models import Appointment

# The live server's listen backlog (Django's default is 10) must hold 50 simultaneous connects;
# set before the session's live server starts (modules are imported at collection).
ThreadedWSGIServer.request_queue_size = 128

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

N = 50


def _next_weekday_ten(tz: ZoneInfo) -> datetime:
    day = datetime.now(tz).date() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=tz).astimezone(UTC)


def test_fifty_concurrent_bookings_of_one_slot_yield_one_success(sched, live_server):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (see module docstring)")
    user = sched.world.users["front_desk"]
    key_id, secret, token = ApiToken.generate()
    ApiToken.objects.create(
        user=user,
        name="load",
        key_id=key_id,
        secret_hash=hash_token_secret(secret),
        scope=ApiToken.Scope.WRITE,
    )
    patients = [PatientFactory(clinic=sched.clinic) for _ in range(N)]
    start = _next_weekday_ten(ZoneInfo(sched.clinic.time_zone))
    barrier = threading.Barrier(N)

    def attempt(patient_id: int) -> int:
        body = json.dumps(
            {
                "patient_id": patient_id,
                "type_id": sched.type("consult").pk,
                "starts_at": start.isoformat(),
                "clinician_id": sched.world.users["physician"].pk,
            }
        ).encode()
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/scheduling/appointments",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        barrier.wait(timeout=30)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=N) as pool:
        statuses = list(pool.map(attempt, [p.pk for p in patients], timeout=120))

    assert sorted(set(statuses)) == [201, 409], statuses
    assert statuses.count(201) == 1
    assert statuses.count(409) == N - 1
    assert Appointment.objects.filter(starts_at=start).count() == 1
