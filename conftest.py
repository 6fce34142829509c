"""Personas shared by every test. Each says in one line what it may and may not do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported lazily: clinic_rules' tests also run without Django (`-p no:django`)
    from django.test import Client

    from bontrack.accounts.models import User
    from bontrack.core.models import Clinic, Practice
    from bontrack.patients.models import Patient

PERSONAS = {
    "physician": "Physician of clinic A1: reads and writes charts and clinical data in A1 (TOTP verified).",
    "nurse": "Nurse injector of clinic A1: reads and writes charts and clinical data in A1.",
    "front_desk": "Front desk of clinic A1: registers patients and edits demographics; no clinical edits.",
    "billing": "Billing across practice A: reads demographics; no edits to patients.",
    "clinic_admin": "Clinic administrator across practice A: edits demographics, reads access logs (TOTP verified).",
    "patient": "The patient (of A1) in the portal: sees only their own record, never staff pages.",
    "other_patient": "Another patient of A1 in the portal: never sees the first patient's record.",
    "other_clinic_staff": "Physician of clinic A2 only: the A1 patient is a 404.",
    "other_practice_staff": "Physician of practice B: everything of practice A is a 404.",
    "anonymous": "Not signed in: UI redirects to sign-in, API answers 401.",
}

STAFF_PERSONAS = ["physician", "nurse", "front_desk", "billing", "clinic_admin"]


@dataclass
class World:
    practice: Practice
    clinic: Clinic
    other_clinic: Clinic
    other_practice: Practice
    other_practice_clinic: Clinic
    patient: Patient
    other_patient: Patient
    users: dict[str, User | None]

    def client(self, persona: str) -> Client:
        from django.test import Client

        from bontrack.factories import login

        client = Client()
        user = self.users[persona]
        if user is not None:
            login(client, user)
        return client


@pytest.fixture
def world(db) -> World:
    from bontrack.accounts.roles import Role
    from bontrack.factories import (
        ClinicFactory,
        PatientFactory,
        PracticeFactory,
        portal_user,
        staff,
    )

    practice = PracticeFactory(name="Practice A", slug="practice-a")
    clinic = ClinicFactory(practice=practice, name="Clinic A1", slug="a1")
    other_clinic = ClinicFactory(practice=practice, name="Clinic A2", slug="a2")
    other_practice = PracticeFactory(name="Practice B", slug="practice-b")
    other_practice_clinic = ClinicFactory(practice=other_practice, name="Clinic B1", slug="b1")
    patient = PatientFactory(clinic=clinic, first_name="Rosa", last_name="Cohen", mrn="A1-0001")
    other_patient = PatientFactory(
        clinic=clinic, first_name="Adam", last_name="Green", mrn="A1-0002"
    )
    users: dict[str, User | None] = {
        "physician": staff(Role.PHYSICIAN, clinic, username="physician"),
        "nurse": staff(Role.NURSE, clinic, username="nurse"),
        "front_desk": staff(Role.FRONT_DESK, clinic, username="frontdesk"),
        "billing": staff(Role.BILLING, None, practice=practice, username="billing"),
        "clinic_admin": staff(Role.CLINIC_ADMIN, None, practice=practice, username="clinicadmin"),
        "patient": portal_user(patient),
        "other_patient": portal_user(other_patient),
        "other_clinic_staff": staff(Role.PHYSICIAN, other_clinic, username="otherclinic"),
        "other_practice_staff": staff(
            Role.PHYSICIAN, other_practice_clinic, username="otherpractice"
        ),
        "anonymous": None,
    }
    return World(
        practice,
        clinic,
        other_clinic,
        other_practice,
        other_practice_clinic,
        patient,
        other_patient,
        users,
    )


def persona_ids() -> list[str]:
    return list(PERSONAS)


@pytest.fixture(scope="session", autouse=True)
def _audit_test_flush(request: pytest.FixtureRequest) -> None:
    """pytest-django's flush may empty the audit table of the TEST database only (docs/audit.md)."""
    if request.config.pluginmanager.hasplugin("django"):
        from bontrack.audit.testing import allow_test_flush

        allow_test_flush()


@pytest.fixture(autouse=True)
def _fresh_audit_rate_limits(request: pytest.FixtureRequest) -> None:
    """The audit rate limits count in Django's cache: each test starts with empty counters."""
    if request.config.pluginmanager.hasplugin("django"):
        from django.core.cache import cache

        cache.clear()
