"""Security headers: a Content-Security-Policy without inline script, a Permissions-Policy, and
`Cache-Control: no-store` on every answer that may carry patient data (static files keep caching)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from bontrack.patients.models import Condition
from bontrack.treatments.tests.conftest import signed

pytestmark = pytest.mark.django_db

TEMPLATE_ROOTS = sorted(Path(settings.BASE_DIR).glob("**/templates"))


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def test_pages_carry_a_policy_that_forbids_inline_script_and_style(world):
    response = world.client("nurse").get(f"/patients/{world.patient.pk}/")
    assert response.status_code == 200
    policy = _csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_every_answer_has_a_permissions_policy_that_turns_features_off(world, client):
    for response in (client.get("/accounts/login/"), world.client("nurse").get("/patients/")):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in policy


def test_public_booking_pages_carry_the_policy_too(world, client):
    response = client.get(f"/book/{world.practice.slug}/{world.clinic.slug}/")
    assert response.status_code == 200
    assert _csp(response)["script-src"] == ["'self'"]


@pytest.mark.parametrize(
    "kind", ["chart page", "htmx fragment", "pdf", "csv export", "api json", "api error"]
)
def test_answers_that_carry_patient_data_are_never_stored(world, kind):
    patient = world.patient
    nurse = world.client("nurse")
    if kind == "chart page":
        response = nurse.get(f"/patients/{patient.pk}/")
    elif kind == "htmx fragment":
        Condition.objects.create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )
        response = nurse.get(f"/diaries/patients/{patient.pk}/panel/", HTTP_HX_REQUEST="true")
    elif kind == "pdf":
        session = signed(world.users["nurse"], patient)
        response = nurse.get(f"/treatments/sessions/{session.pk}/note.pdf")
        assert response["Content-Type"] == "application/pdf"
    elif kind == "csv export":
        Condition.objects.create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )
        response = nurse.get(f"/diaries/patients/{patient.pk}/export.csv")
        assert response["Content-Type"].startswith("text/csv")
    elif kind == "api json":
        response = nurse.get(f"/api/v1/patients/{patient.pk}")
        assert response["Content-Type"].startswith("application/json")
    else:
        response = world.client("anonymous").get(f"/api/v1/patients/{patient.pk}")
        assert response.status_code == 401
    if kind != "api error":
        assert response.status_code == 200, kind
    assert response["Cache-Control"] == "no-store", kind


def test_the_portal_and_the_booking_manage_page_are_never_stored(world):
    response = world.client("patient").get("/portal/")
    assert response["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", re.I)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)=", re.I)
INLINE_STYLE = re.compile(r"<style|\sstyle=", re.I)


@pytest.mark.parametrize("path", [p for root in TEMPLATE_ROOTS for p in root.glob("**/*.html")])
def test_templates_have_no_inline_script_handlers_or_styles(path):
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), f"{path}: inline <script>; move it to a static .js file"
    assert not INLINE_HANDLER.search(text), f"{path}: inline event handler (on...= / hx-on)"
    assert "javascript:" not in text, f"{path}: javascript: URL"
    assert not INLINE_STYLE.search(text), f"{path}: inline style; use a class in a static .css file"
