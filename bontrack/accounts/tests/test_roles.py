"""The permission table, read as a clinician would: who may do what."""

from __future__ import annotations

import pytest

from bontrack.accounts.roles import MFA_REQUIRED_ROLES, PERMISSIONS, Perm, Role, role_has

TABLE = [
    # role,            view  create edit  clinical audit rules
    (Role.PHYSICIAN, True, True, True, True, False, True),
    (Role.NURSE, True, True, True, True, False, True),
    (Role.FRONT_DESK, True, True, True, False, False, False),
    (Role.BILLING, True, False, False, False, False, True),
    (Role.CLINIC_ADMIN, True, True, True, False, True, True),
]


@pytest.mark.parametrize("role,view,create,edit,clinical,audit,rules", TABLE)
def test_the_permission_table(role, view, create, edit, clinical, audit, rules):
    assert [
        role_has(role, p)
        for p in (
            Perm.PATIENT_VIEW,
            Perm.PATIENT_CREATE,
            Perm.PATIENT_EDIT,
            Perm.PATIENT_CLINICAL_EDIT,
            Perm.AUDIT_VIEW,
            Perm.RULES_RUN,
        )
    ] == [view, create, edit, clinical, audit, rules]


def test_every_permission_names_only_known_roles():
    for roles in PERMISSIONS.values():
        assert roles <= set(Role.values)


def test_physicians_and_admins_need_two_factor():
    assert {Role.PHYSICIAN, Role.CLINIC_ADMIN} == set(MFA_REQUIRED_ROLES)
