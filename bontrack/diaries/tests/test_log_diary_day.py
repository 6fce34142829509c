"""Logging a diary day: the patient's entry, back-fill window, staff transcription, history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bontrack.audit.models import AuditEvent
from bontrack.diaries import facts
from bontrack.diaries.actions import diary_days
from bontrack.diaries.models import DiaryDay, DiaryDayRevision

pytestmark = pytest.mark.django_db


def migraine(day, **extra):
    data = {
        "date": day,
        "headache": True,
        "hours": Decimal("6"),
        "severity": 3,
        "unilateral": True,
        "pulsating": True,
        "nausea": True,
        "medications": [{"name": "sumatriptan"}],
        "triptan_or_ergot_relief": True,
    }
    data.update(extra)
    return diary_days.DayInput(**data)


def test_a_patient_logs_a_migraine_day_and_it_is_audited(world, cm_patient, frozen_today):
    day, outcome = diary_days.save_diary_day(
        actor=world.users["patient"], patient=cm_patient, data=migraine(frozen_today)
    )
    assert outcome == "created"
    assert day.source == "patient"
    assert [(m.name, m.drug_class) for m in day.medications.all()] == [("Sumatriptan", "triptan")]
    event = AuditEvent.objects.get(action="create", object_type="diaries.diaryday")
    assert event.patient_id == cm_patient.pk
    assert event.changes["medications"] == [None, [["Sumatriptan", "triptan", 1]]]


def test_no_headache_is_one_field(world, cm_patient, frozen_today):
    diary_days.save_diary_day(
        actor=world.users["patient"],
        patient=cm_patient,
        data=diary_days.DayInput(date=frozen_today, headache=False),
    )
    doc = facts.diary_documents(cm_patient, frozen_today, frozen_today)
    assert doc[0]["headache"] is False and doc[0]["acute_medications"] == []


def test_an_edit_keeps_the_previous_version_and_audits_the_change(world, cm_patient, frozen_today):
    patient_user = world.users["patient"]
    diary_days.save_diary_day(actor=patient_user, patient=cm_patient, data=migraine(frozen_today))
    day, outcome = diary_days.save_diary_day(
        actor=patient_user, patient=cm_patient, data=migraine(frozen_today, severity=2)
    )
    assert outcome == "updated"
    assert day.version == 2
    revision = DiaryDayRevision.objects.get(day=day)
    assert revision.version == 1 and revision.data["severity"] == 3
    update = AuditEvent.objects.get(action="update", object_type="diaries.diaryday")
    assert update.changes == {"severity": [3, 2]}


def test_saving_the_same_day_twice_changes_nothing(world, cm_patient, frozen_today):
    user = world.users["patient"]
    diary_days.save_diary_day(actor=user, patient=cm_patient, data=migraine(frozen_today))
    _, outcome = diary_days.save_diary_day(
        actor=user, patient=cm_patient, data=migraine(frozen_today)
    )
    assert outcome == "unchanged"
    assert not DiaryDayRevision.objects.exists()
    assert AuditEvent.objects.filter(object_type="diaries.diaryday").count() == 1


def test_a_patient_may_back_fill_30_days_but_not_31(world, cm_patient, frozen_today):
    user = world.users["patient"]
    diary_days.save_diary_day(
        actor=user,
        patient=cm_patient,
        data=diary_days.DayInput(date=frozen_today - timedelta(days=30), headache=False),
    )
    with pytest.raises(ValidationError) as exc:
        diary_days.save_diary_day(
            actor=user,
            patient=cm_patient,
            data=diary_days.DayInput(date=frozen_today - timedelta(days=31), headache=False),
        )
    assert "stay missing" in exc.value.message_dict["date"][0]
    assert DiaryDay.objects.count() == 1


def test_a_future_day_is_refused(world, cm_patient, frozen_today):
    with pytest.raises(ValidationError) as exc:
        diary_days.save_diary_day(
            actor=world.users["patient"],
            patient=cm_patient,
            data=diary_days.DayInput(date=frozen_today + timedelta(days=1), headache=False),
        )
    assert "future" in exc.value.message_dict["date"][0]


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"severity": 0}, "severity"),
        ({"medications": [{"name": "ibuprofen"}]}, "triptan_or_ergot_relief"),
        ({"aura_minutes": 20}, "aura_minutes"),
        ({"hours": Decimal("25")}, "hours"),
        ({"medications": [{"name": "unknownol"}]}, "medications.0.name"),
    ],
)
def test_inconsistent_days_are_refused_with_the_field(
    world, cm_patient, frozen_today, extra, field
):
    with pytest.raises(ValidationError) as exc:
        diary_days.save_diary_day(
            actor=world.users["patient"], patient=cm_patient, data=migraine(frozen_today, **extra)
        )
    assert field in exc.value.message_dict
    assert not DiaryDay.objects.exists()
    assert not AuditEvent.objects.filter(object_type="diaries.diaryday").exists()


def test_a_headache_free_day_cannot_carry_features(world, cm_patient, frozen_today):
    with pytest.raises(ValidationError) as exc:
        diary_days.save_diary_day(
            actor=world.users["patient"],
            patient=cm_patient,
            data=diary_days.DayInput(date=frozen_today, headache=False, nausea=True),
        )
    assert "nausea" in exc.value.message_dict


def test_a_nurse_transcribes_an_old_paper_diary_day(world, cm_patient, frozen_today):
    old = frozen_today - timedelta(days=200)
    day, _ = diary_days.save_diary_day(
        actor=world.users["nurse"], patient=cm_patient, data=migraine(old)
    )
    assert day.source == "transcribed"
    assert day.entered_by == world.users["nurse"]


@pytest.mark.parametrize(
    "persona", ["front_desk", "billing", "other_clinic_staff", "other_patient"]
)
def test_others_cannot_write_the_diary(world, cm_patient, frozen_today, persona):
    with pytest.raises(PermissionDenied):
        diary_days.save_diary_day(
            actor=world.users[persona], patient=cm_patient, data=migraine(frozen_today)
        )
    assert not DiaryDay.objects.exists()
    assert not AuditEvent.objects.exists()


def test_diary_documents_are_in_the_clinic_rules_shape(world, cm_patient, frozen_today):
    from clinic_rules import contract

    diary_days.save_diary_day(
        actor=world.users["patient"], patient=cm_patient, data=migraine(frozen_today)
    )
    docs = facts.diary_documents(cm_patient, frozen_today - timedelta(days=5), frozen_today)
    summary = contract.run(
        "diary-summary", {"as_of": frozen_today.isoformat(), "days": docs, "period_days": 28}
    )
    assert summary["days"][-1] == {"date": frozen_today.isoformat(), "class": "migraine"}
