"""Each dashboard figure against a small program computed by hand (see dashboard_data.py)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from bontrack.accounts.roles import Perm
from bontrack.ops.dashboard import figures, refresh
from bontrack.ops.dashboard.figures import Filters
from bontrack.ops.tests import dashboard_data as data
from bontrack.outcomes.models import OutcomeBucket, OutcomeFact, PatientOutcome, RefreshMark
from bontrack.scheduling.tests.conftest import sched  # noqa: F401 - the scheduling fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(world, sched):  # noqa: F811
    data.build(world, sched)
    with time_machine.travel(data.NOW, tick=False):
        # Every write above marked its patient; the worker's job refreshes them.
        assert set(RefreshMark.objects.values_list("patient_id", flat=True)) == {
            world.patient.pk,
            world.other_patient.pk,
        }
        assert refresh.run_marked(100) == 2
    assert not RefreshMark.objects.exists()
    return world


def _figs(world, persona="clinic_admin", **kw):
    scope = world.users[persona].scope(Perm.DASHBOARD_VIEW)
    f = Filters(kw.pop("start", date(2025, 6, 1)), kw.pop("end", date(2026, 5, 1)), **kw)
    return {fig.slug: fig for fig in figures.compute(scope, f, data.TODAY)}


def _rows(fig):
    return {row[0]: row[1:] for row in fig.rows}


def test_every_figure_equals_the_hand_computed_numbers(program):
    figs = _figs(program)
    stages = _rows(figs["stages"])
    assert stages["Continuing"] == (1,)  # P: three sessions
    assert stages["In cycle 1-2"] == (1,)  # Q: one session
    assert stages["Consultation"] == stages["Eligible, not treated yet"] == (0,)
    assert stages["Stopped"] == (0,)
    # P: 20/28 -> 8/28 headache days at cycle 2 = -60%: a responder under any rule set.
    assert _rows(figs["responders"]) == {"Responder": (1, 100.0), "Non-responder": (0, 0.0)}
    reduction = _rows(figs["reduction"])
    assert reduction["60-69%"] == (1,)
    assert sum(v[0] for v in reduction.values()) == 1
    assert "mean reduction 60.0%" in figs["reduction"].headline
    # MIDAS 30 at baseline, 12 before the third session.
    assert figs["scales"].rows == [("Chronic migraine", "MIDAS", 1, -18.0)]
    # S1->S2 84 days, S2->S3 88 days: both within 12-14 weeks; P is overdue today (S3 + 98 days
    # = 2026-05-30 has passed), Q is not.
    rhythm = _rows(figs["rhythm"])
    assert rhythm["Within 12-14 weeks"] == (2, 100.0)
    assert rhythm["Earlier than 12 weeks"] == (0, 0.0)
    assert rhythm["Later than 14 weeks"] == (0, 0.0)
    assert rhythm["Overdue now (patients)"] == (1, None)
    assert _rows(figs["noshows"]) == {"Missed": (1, 50.0), "Attended": (1, 50.0)}
    effects = _rows(figs["effects"])
    assert effects["Drooping eyelid (ptosis)"] == (1, 25.0)  # 1 report in 4 sessions
    assert effects["Neck pain"] == (0, 0.0)
    assert figs["units"].rows == [
        ("Chronic migraine", 4, 4.0 * data.PREEMPT_UNITS, float(data.PREEMPT_UNITS))
    ]


def test_the_period_clinic_and_physician_filters(program):
    late = _figs(program, start=date(2026, 3, 1), end=date(2026, 5, 1))
    assert late["units"].rows == [("Chronic migraine", 1, 155.0, 155.0)]
    assert _rows(late["effects"])["Drooping eyelid (ptosis)"] == (1, 100.0)
    assert _rows(late["responders"])["Responder"] == (0, None)  # assessed in February
    assert _rows(late["rhythm"])["Within 12-14 weeks"] == (0, None)
    other = _figs(program, clinic_id=program.other_clinic.pk)
    assert other["units"].rows == []
    assert _rows(other["stages"])["Continuing"] == (0,)
    nobody = _figs(program, physician_id=program.users["nurse"].pk)
    assert nobody["units"].rows == []
    # A physician of clinic A2 sees nothing of A1 even without a filter.
    assert _figs(program, persona="other_clinic_staff")["units"].rows == []


def test_the_buckets_always_equal_the_facts_after_incremental_refreshes(program):
    from django.db.models import Sum

    from bontrack.treatments.actions import follow_up
    from bontrack.treatments.models import TreatmentSession

    session = TreatmentSession.objects.filter(patient=program.patient).order_by("performed_at")[0]
    with time_machine.travel(data.NOW, tick=False):
        follow_up.record_adverse_effect(
            actor=program.users["nurse"], session=session, kind="neck_pain"
        )
        assert refresh.run_marked(100) == 1

    def sums(model):
        return {
            (r["metric"], r["key"], r["month"]): (r["n"], round(r["t"], 6))
            for r in model.objects.values("metric", "key", "month")
            .annotate(n=Sum("n"), t=Sum("total"))
            .order_by()
            if r["n"] or r["t"]
        }

    assert sums(OutcomeBucket) == sums(OutcomeFact)
    effects = _rows(_figs(program)["effects"])
    assert effects["Neck pain"] == (1, 25.0)
    # A full rebuild gives the same buckets as the incremental path.
    before = sums(OutcomeBucket)
    with time_machine.travel(data.NOW, tick=False):
        refresh.backfill([program.patient.pk, program.other_patient.pk])
    assert sums(OutcomeBucket) == before
    assert PatientOutcome.objects.count() == 2


def test_the_assessment_falls_due_without_a_write_and_the_job_picks_it_up(world):
    from datetime import timedelta

    from bontrack.factories import signed_session
    from bontrack.patients.models import Condition

    p = world.patient
    Condition.objects.create(patient=p, indication="chronic_migraine", icd10_code="G43.709")
    for day in (data.S1, data.S2):
        with time_machine.travel(data._at(day), tick=False):
            signed_session(world.users["physician"], p)
    due = data.S2 + timedelta(days=84)  # no third session: assessed the day it was due
    with time_machine.travel(data._at(due - timedelta(days=1)), tick=False):
        data.diary(world.users["nurse"], p, until=due - timedelta(days=1))
        assert refresh.run_marked(100) == 1
    outcome = PatientOutcome.objects.get(patient=p)
    assert outcome.recheck_on == due
    assert not OutcomeFact.objects.filter(metric="responder").exists()
    with time_machine.travel(data._at(due + timedelta(days=1)), tick=False):
        assert refresh.run_marked(100) == 1  # no mark: the recheck date brought it back
        assert refresh.run_marked(100) == 0
    fact = OutcomeFact.objects.get(metric="responder")
    assert (fact.key, fact.month) == ("yes", due.replace(day=1))
    assert PatientOutcome.objects.get(patient=p).recheck_on is None


def test_a_refused_write_marks_nobody(world):
    from datetime import date as d

    from django.core.exceptions import ValidationError

    from bontrack.diaries.actions.diary_days import DayInput, upsert_diary_days

    with pytest.raises(ValidationError):
        upsert_diary_days(
            actor=world.users["nurse"],
            patient=world.patient,
            days=[DayInput(date=d(2026, 1, 1), headache=True, severity=9)],
        )
    assert not RefreshMark.objects.exists()


def test_the_backfill_command_rebuilds_the_rollup_with_a_progress_bar(program, capsys):
    from django.core.management import call_command

    before = {fig.slug: fig.rows for fig in _figs(program).values()}
    OutcomeBucket.objects.all().delete()
    OutcomeFact.objects.all().delete()
    PatientOutcome.objects.all().delete()
    with time_machine.travel(data.NOW, tick=False):
        call_command("outcomes_backfill", "--batch", "1")
    out = capsys.readouterr()
    assert "2/2 patients" in out.err and "[####" in out.err
    assert "Rollup filled for 2 patients" in out.out
    assert {fig.slug: fig.rows for fig in _figs(program).values()} == before


def test_reduction_bins_cover_worse_through_a_full_reduction():
    assert refresh.reduction_bin(-5) == "worse"
    assert refresh.reduction_bin(0) == "0-9%"
    assert refresh.reduction_bin(59.99) == "50-59%"
    assert refresh.reduction_bin(90) == refresh.reduction_bin(100) == "90-100%"
