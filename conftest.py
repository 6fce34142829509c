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

# Staff personas: (role, where their membership is, relative to the A1 patient). "clinic" is A1 itself,
# "practice" a practice-wide membership, "other_clinic" A2 only, "other_practice" practice B.
STAFF_PLACES = {
    "physician": ("physician", "clinic"),
    "nurse": ("nurse", "clinic"),
    "front_desk": ("front_desk", "clinic"),
    "billing": ("billing", "practice"),
    "clinic_admin": ("clinic_admin", "practice"),
    "other_clinic_staff": ("physician", "other_clinic"),
    "other_practice_staff": ("physician", "other_practice"),
}
PATIENT_PERSONAS = ["patient", "other_patient"]


def allowed(perm: str, persona: str) -> bool:
    """Whether the persona's role holds `perm` (accounts/roles.py PERMISSIONS), wherever that is."""
    from bontrack.accounts.roles import role_has

    place = STAFF_PLACES.get(persona)
    return place is not None and role_has(place[0], perm)


def expected_status(
    perm: str,
    persona: str,
    *,
    ok: int = 200,
    api: bool = False,
    outside: int = 404,
    denied: int = 403,
) -> int:
    """The status a persona gets for an action guarded by `perm` on an object of the A1 patient.

    `ok` is the success status (200 page, 302 form post, 201 API create). Staff whose role holds `perm`
    only in another clinic or practice get `outside` (the object is out of their scope: 404). Staff
    whose role lacks `perm` get `denied` (403). Patients get 403 on staff pages and 401 on the staff
    API; anonymous visitors are sent to sign in (302) or get 401 from the API.
    """
    if persona == "anonymous":
        return 401 if api else 302
    if persona in PATIENT_PERSONAS:
        return 401 if api else 403
    if not allowed(perm, persona):
        return denied
    if STAFF_PLACES[persona][1] in ("other_clinic", "other_practice"):
        return outside
    return ok


def permission_matrix(
    perm: str, *, ok: int = 200, api: bool = False, **overrides: int
) -> dict[str, int]:
    """persona -> expected status for every persona (see `expected_status`); `overrides` name the
    personas whose answer differs for a stated reason (e.g. a form that only offers one's own clinics)."""
    unknown = set(overrides) - set(PERSONAS)
    if unknown:
        raise ValueError(f"unknown personas: {sorted(unknown)}")
    matrix = {persona: expected_status(perm, persona, ok=ok, api=api) for persona in PERSONAS}
    matrix.update(overrides)
    return matrix


def portal_matrix(*, ok: int = 200) -> dict[str, int]:
    """persona -> expected status for a portal page (each patient reaches only their own record):
    both patients `ok`, every staff persona 403, anonymous visitors sent to sign in (302)."""
    return {
        persona: ok if persona in PATIENT_PERSONAS else 302 if persona == "anonymous" else 403
        for persona in PERSONAS
    }


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
