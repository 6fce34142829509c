"""core/sqlcache.py: a query compiled once gives what the queryset gives, for any later values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.accounts.models import ApiToken
from bontrack.core.sqlcache import Prepared
from bontrack.factories import PatientFactory
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db


def _patients(practice_id: int, name: str):
    return (
        Patient.objects.filter(practice_id=practice_id, last_name=name)
        .select_related("clinic")
        .annotate(clinic_label=F("clinic__name"))
        .order_by("id")
    )


def test_later_calls_return_what_the_queryset_returns(world):
    a = PatientFactory(clinic=world.patient.clinic, last_name="Alvarez")
    b = PatientFactory(clinic=world.patient.clinic, last_name="Brown")
    prepared = Prepared(_patients)
    for p in (a, b, a):
        got = prepared.fetch("by-name", world.practice.pk, p.last_name)
        want = list(_patients(world.practice.pk, p.last_name))
        assert [x.pk for x in got] == [x.pk for x in want] == [p.pk]
        assert got[0].clinic.name == want[0].clinic.name  # select_related object filled
        assert got[0].clinic_label == want[0].clinic_label  # annotation set
        assert got[0].date_of_birth == want[0].date_of_birth  # converters applied
    assert prepared.fetch("by-name", world.practice.pk, "Nobody") == []


def test_a_later_call_runs_one_query_and_compiles_nothing(world, monkeypatch):
    p = PatientFactory(clinic=world.patient.clinic, last_name="Chen")
    prepared = Prepared(_patients)
    prepared.fetch("by-name", world.practice.pk, "Chen")
    from django.db.models.sql import compiler

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(compiler.SQLCompiler, "as_sql", refuse)
    with CaptureQueriesContext(connection) as ctx:
        got = prepared.fetch("by-name", world.practice.pk, "Chen")
    assert [x.pk for x in got] == [p.pk]
    assert len(ctx.captured_queries) == 1


def test_a_value_that_does_not_reach_the_parameters_is_refused(world):
    # icontains wraps the value in %...%: it cannot be substituted, so the query is refused.
    prepared = Prepared(lambda name: Patient.objects.filter(last_name__icontains=name))
    with pytest.raises(ValueError, match="exactly once"):
        prepared.fetch("contains", "x")
    with pytest.raises(TypeError):
        Prepared(lambda flag: Patient.objects.filter(pk=1)).fetch("bool", True)


def test_datetimes_are_values_too(world):
    nurse = world.users["nurse"]
    now = timezone.now()
    token = ApiToken.objects.create(
        user=nurse, name="t", key_id="k1", secret_hash="x", expires_at=now + timedelta(days=1)
    )
    prepared = Prepared(lambda key, at: ApiToken.objects.filter(key_id=key, expires_at__gt=at))
    assert [t.pk for t in prepared.fetch("tok", "k1", now)] == [token.pk]
    assert prepared.fetch("tok", "k1", now + timedelta(days=2)) == []
