"""The shared permission matrix (root conftest) says, per persona, what roles.PERMISSIONS implies."""

from __future__ import annotations

import pytest

from bontrack.accounts.roles import PERMISSIONS, Perm
from conftest import PERSONAS, permission_matrix, portal_matrix


def test_charting_a_session_spelled_out():
    assert permission_matrix(Perm.SESSION_CHART, ok=302) == {
        "physician": 302,
        "nurse": 302,
        "front_desk": 403,
        "billing": 403,
        "clinic_admin": 403,
        "patient": 403,
        "other_patient": 403,
        "other_clinic_staff": 404,
        "other_practice_staff": 404,
        "anonymous": 302,
    }


def test_clinic_defined_protocols_are_the_physicians_spelled_out():
    assert permission_matrix(Perm.CLINIC_PROTOCOL_MANAGE) == {
        "physician": 200,
        "nurse": 403,
        "front_desk": 403,
        "billing": 403,
        "clinic_admin": 403,
        "patient": 403,
        "other_patient": 403,
        "other_clinic_staff": 404,
        "other_practice_staff": 404,
        "anonymous": 302,
    }


def test_the_api_answers_401_to_patients_and_anonymous_visitors():
    matrix = permission_matrix(Perm.AUDIT_VIEW, api=True)
    assert matrix["patient"] == matrix["other_patient"] == matrix["anonymous"] == 401
    # Physicians of other clinics lack the permission anywhere: refused, not "not found".
    assert matrix["other_clinic_staff"] == matrix["other_practice_staff"] == 403
    assert matrix["clinic_admin"] == 200


@pytest.mark.parametrize("perm", sorted(PERMISSIONS))
def test_every_permission_has_a_row_per_persona(perm):
    matrix = permission_matrix(perm)
    assert list(matrix) == list(PERSONAS)
    assert {matrix[p] for p in ("patient", "other_patient")} == {403}


def test_an_override_must_name_a_persona():
    with pytest.raises(ValueError):
        permission_matrix(Perm.PATIENT_VIEW, other_clinc_staff=200)


def test_portal_pages_are_for_patients():
    assert portal_matrix(ok=302) == {
        **dict.fromkeys(PERSONAS, 403),
        "patient": 302,
        "other_patient": 302,
        "anonymous": 302,
    }


def test_managing_clinic_templates_spelled_out():
    """Issue 10: the physician and the clinic administrator manage the clinic's templates."""
    assert permission_matrix(Perm.TEMPLATE_MANAGE, ok=302) == {
        "physician": 302,
        "nurse": 403,
        "front_desk": 403,
        "billing": 403,
        "clinic_admin": 302,
        "patient": 403,
        "other_patient": 403,
        "other_clinic_staff": 404,
        "other_practice_staff": 404,
        "anonymous": 302,
    }


def test_authorizations_spelled_out():
    # Every staff role reads authorizations (warnings at booking and check-in); billing and the
    # clinic administrator (both practice-wide here) record them; packets carry clinical data.
    assert permission_matrix(Perm.AUTHORIZATION_EDIT, ok=302) == {
        **dict.fromkeys(PERSONAS, 403),
        "billing": 302,
        "clinic_admin": 302,
        "anonymous": 302,
    }
    view = permission_matrix(Perm.AUTHORIZATION_VIEW)
    assert [p for p, s in view.items() if s == 200] == [
        "physician",
        "nurse",
        "front_desk",
        "billing",
        "clinic_admin",
    ]
    assert permission_matrix(Perm.AUTHORIZATION_PACKET)["front_desk"] == 403


def test_recalling_a_lot_spelled_out():
    # The lot recall, its contact log and the clinic's low-stock level: the clinic administrator.
    for perm in (Perm.LOT_RECALL, Perm.INVENTORY_CONFIGURE):
        assert permission_matrix(perm, ok=302) == {
            "physician": 403,
            "nurse": 403,
            "front_desk": 403,
            "billing": 403,
            "clinic_admin": 302,
            "patient": 403,
            "other_patient": 403,
            "other_clinic_staff": 403,
            "other_practice_staff": 403,
            "anonymous": 302,
        }


def test_the_pathway_api_spelled_out():
    """Issue 10 through the API: plans, scale scores, cycle figures, reviews, suggestions and
    protocols are read by the roles that read sessions; scores are recorded by the injectors;
    suggestions are decided and plans signed by the physician; consultations are the
    clinicians'."""
    assert permission_matrix(Perm.SESSION_VIEW, api=True) == {
        "physician": 200,
        "nurse": 200,
        "front_desk": 403,
        "billing": 200,
        "clinic_admin": 200,
        "patient": 401,
        "other_patient": 401,
        "other_clinic_staff": 404,
        "other_practice_staff": 404,
        "anonymous": 401,
    }
    assert permission_matrix(Perm.SESSION_CHART, ok=201, api=True) == {
        **permission_matrix(Perm.SESSION_VIEW, api=True),
        "physician": 201,
        "nurse": 201,
        "billing": 403,
        "clinic_admin": 403,
    }
    for perm in (Perm.RESPONSE_REVIEW, Perm.SESSION_COSIGN):
        assert permission_matrix(perm, api=True) == {
            **permission_matrix(Perm.SESSION_VIEW, api=True),
            "nurse": 403,
            "billing": 403,
            "clinic_admin": 403,
        }
    assert permission_matrix(Perm.DIARY_VIEW, api=True) == {
        **permission_matrix(Perm.RESPONSE_REVIEW, api=True),
        "nurse": 200,
    }


def test_clinic_set_up_including_contact_details_spelled_out():
    """Clinic set-up (hours, rooms, booking settings, the clinic's phone and contact e-mail) is
    the clinic administrator's; the practice-wide persona reaches every clinic of the practice."""
    assert permission_matrix(Perm.SCHEDULE_CONFIGURE, ok=302) == {
        "physician": 403,
        "nurse": 403,
        "front_desk": 403,
        "billing": 403,
        "clinic_admin": 302,
        "patient": 403,
        "other_patient": 403,
        "other_clinic_staff": 403,
        "other_practice_staff": 403,
        "anonymous": 302,
    }


def test_recalculating_and_deciding_suggestions_spelled_out():
    """Issue 10 item 8: the physicians who decide suggestions recalculate them (a POST)."""
    assert permission_matrix(Perm.RESPONSE_REVIEW, ok=302) == {
        **dict.fromkeys(PERSONAS, 403),
        "physician": 302,
        "other_clinic_staff": 404,
        "other_practice_staff": 404,
        "anonymous": 302,
    }
