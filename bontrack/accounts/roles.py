"""Staff roles and the permission table: the one place that says who may do what."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse injector"
    FRONT_DESK = "front_desk", "Front desk"
    BILLING = "billing", "Billing"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"


class Perm:
    PATIENT_VIEW = "patient.view"
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT = "patient.edit"
    PATIENT_CLINICAL_EDIT = "patient.clinical_edit"
    AUDIT_VIEW = "audit.view"
    RULES_RUN = "rules.run"
    API_DOCS = "api.docs"


_ALL_STAFF = frozenset(Role.values)

PERMISSIONS: dict[str, frozenset[str]] = {
    # Demographics and the chart summary: every staff role (billing needs them for claims).
    Perm.PATIENT_VIEW: _ALL_STAFF,
    # Registering and editing demographics: everyone who meets patients, not billing.
    Perm.PATIENT_CREATE: frozenset(
        {Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}
    ),
    Perm.PATIENT_EDIT: frozenset({Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    # Weights, conditions, contraindication flags, prior treatments: clinicians only.
    Perm.PATIENT_CLINICAL_EDIT: frozenset({Role.PHYSICIAN, Role.NURSE}),
    # A patient's access log: the clinic administrator (privacy officer role).
    Perm.AUDIT_VIEW: frozenset({Role.CLINIC_ADMIN}),
    # The clinical rule engine: clinicians, billing (billing-lines) and admins; not the front desk.
    Perm.RULES_RUN: frozenset({Role.PHYSICIAN, Role.NURSE, Role.BILLING, Role.CLINIC_ADMIN}),
    Perm.API_DOCS: _ALL_STAFF,
}

# Roles whose accounts must use TOTP two-factor authentication.
MFA_REQUIRED_ROLES = frozenset({Role.PHYSICIAN, Role.CLINIC_ADMIN})


def role_has(role: str, perm: str) -> bool:
    return role in PERMISSIONS.get(perm, frozenset())
