"""Clinic administrators set the practice's program policy; clinic_rules judges the values."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.core.models import ProgramPolicy
from bontrack.core.policy import facts as policy
from bontrack.diaries.actions import program_policy
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

PAGE = permission_matrix(Perm.PROGRAM_POLICY_EDIT)
PAGE_SAVE = permission_matrix(Perm.PROGRAM_POLICY_EDIT, ok=302)
API = permission_matrix(Perm.PROGRAM_POLICY_EDIT, api=True)


def _state():
    return (
        list(ProgramPolicy.objects.values()),
        AuditEvent.objects.filter(object_type="diaries.programpolicy").count(),
    )


def _allowed(key: str) -> list:
    return policy.schema()[key]["enum"]


def _put(client, body: dict):
    full = dict.fromkeys(policy.FIELDS) | body
    return client.put("/api/v1/diaries/policy", json.dumps(full), content_type="application/json")


@pytest.mark.parametrize("persona,expected", PAGE.items())
def test_who_opens_the_policy_page(world, persona, expected):
    response = world.client(persona).get("/diaries/policy/")
    assert response.status_code == expected
    if expected == 200:
        assert b"Default (" in response.content
        assert b'href="/diaries/policy/">Program policy</a>' in response.content


def test_only_administrators_see_the_policy_link(world):
    admin = world.client("clinic_admin").get("/patients/")
    physician = world.client("physician").get("/patients/")
    assert b'href="/diaries/policy/"' in admin.content
    assert b'href="/diaries/policy/"' not in physician.content


@pytest.mark.parametrize("persona,expected", PAGE_SAVE.items())
def test_who_saves_the_policy_on_the_page(world, persona, expected):
    before = _state()
    choice = _allowed("response_rule_set")[-1]
    response = world.client(persona).post(
        "/diaries/policy/", {"response_rule_set": choice, "count_probable_as_migraine": "false"}
    )
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        row = ProgramPolicy.objects.get(practice=world.practice)
        assert row.response_rule_set == choice
        assert row.count_probable_as_migraine is False
        assert AuditEvent.objects.filter(object_type="diaries.programpolicy").count() == 1
    else:
        assert _state() == before


@pytest.mark.parametrize("persona,expected", API.items())
def test_who_reads_the_policy_through_the_api(world, persona, expected):
    response = world.client(persona).get("/api/v1/diaries/policy")
    assert response.status_code == expected
    if expected == 200:
        assert set(response.json()["effective"]) == {k.key for k in policy.KNOBS}


@pytest.mark.parametrize("persona,expected", API.items())
def test_who_replaces_the_policy_through_the_api(world, persona, expected):
    before = _state()
    window = _allowed("window_days")[-1]
    response = _put(world.client(persona), {"cumulative_window_days": window})
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["cumulative_window_days"] == window
        assert response.json()["effective"]["window_days"] == window
        assert ProgramPolicy.objects.get().cumulative_window_days == window
    else:
        assert _state() == before


def test_the_saved_policy_reaches_clinic_rules_and_is_audited_with_its_changes(world):
    client = world.client("clinic_admin")
    response = client.post("/diaries/policy/", {"failed_preventive_classes_required": "2"})
    assert response.status_code == 302
    assert policy.policy_document(world.practice) == {"failed_preventive_classes_required": 2}
    event = AuditEvent.objects.get(object_type="diaries.programpolicy")
    assert event.changes["failed_preventive_classes_required"] == [None, 2]
    assert event.practice_id == world.practice.pk
    assert event.actor == world.users["clinic_admin"]


def test_a_value_clinic_rules_does_not_allow_is_refused_on_its_field(world):
    client = world.client("clinic_admin")
    maximum = policy.schema()["failed_preventive_classes_required"]["maximum"]
    before = _state()
    response = _put(client, {"failed_preventive_classes_required": maximum + 1})
    assert response.status_code == 422
    assert "failed_preventive_classes_required" in response.json()["errors"]
    not_allowed = max(_allowed("window_days")) + 1
    response = _put(client, {"cumulative_window_days": not_allowed})
    assert response.status_code == 422
    assert "cumulative_window_days" in response.json()["errors"]
    response = _put(client, {"early_retreatment": "maybe"})
    assert response.status_code == 422
    assert "early_retreatment" in response.json()["errors"]
    assert _state() == before


def test_the_page_refuses_an_out_of_range_value_with_422(world):
    client = world.client("clinic_admin")
    response = client.post("/diaries/policy/", {"min_diary_completeness": "1.5"})
    assert response.status_code == 422
    assert ProgramPolicy.objects.count() == 0


def test_null_restores_the_default_and_the_same_values_write_nothing(world):
    client = world.client("clinic_admin")
    assert _put(client, {"require_4h_for_headache_day": False}).status_code == 200
    assert policy.policy_document(world.practice) == {"require_4h_for_headache_day": False}
    audits = AuditEvent.objects.filter(object_type="diaries.programpolicy").count()
    assert _put(client, {"require_4h_for_headache_day": False}).status_code == 200
    assert AuditEvent.objects.filter(object_type="diaries.programpolicy").count() == audits
    body = _put(client, {}).json()
    assert body["require_4h_for_headache_day"] is None
    assert body["effective"]["require_4h_for_headache_day"] == policy.default(
        "require_4h_for_headache_day"
    )
    assert policy.policy_document(world.practice) == {}
    assert AuditEvent.objects.filter(object_type="diaries.programpolicy").count() == audits + 1


def test_the_service_refuses_other_roles_and_unknown_knobs(world):
    admin = world.users["clinic_admin"]
    with pytest.raises(ValidationError):
        program_policy.update_program_policy(actor=admin, practice=world.practice, colour="blue")
    with pytest.raises(PermissionDenied):
        program_policy.update_program_policy(
            actor=admin, practice=world.other_practice, count_probable_as_migraine=False
        )
    for persona in ("physician", "nurse", "billing", "other_practice_staff"):
        with pytest.raises(PermissionDenied):
            program_policy.update_program_policy(
                actor=world.users[persona],
                practice=world.practice,
                count_probable_as_migraine=False,
            )
    assert _state() == ([], 0)
