"""The session screen and chart panel over HTTP: editing sites, refused edits, signing, the note."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from bontrack.treatments.models import Injection

from .conftest import chart, signed

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_the_session_screen_shows_the_31_sites_on_the_map(world, nurse):
    session = chart(nurse, world.patient)
    response = world.client("nurse").get(f"/treatments/sessions/{session.pk}/")
    assert response.status_code == 200
    assert response.content.count(b'class="site done') == 31
    assert b"155 U this session" in response.content


def test_editing_a_site_re_renders_the_findings(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.get(muscle="procerus")
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sites/{site.pk}/save/",
        {"units": "5", "status": "skipped"},
        **HX,
    )
    assert response.status_code == 200
    assert b"BTX-CM-PREEMPT-SITES" in response.content
    assert Injection.objects.get(pk=site.pk).status == "skipped"


def test_a_refused_edit_answers_422_with_the_block_and_saves_nothing(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.get(position=30)
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sites/{site.pk}/save/",
        {"units": "300", "status": "done"},
        **HX,
    )
    assert response.status_code == 422
    assert b"BTX-CUM-ADULT-400" in response.content and b"Not saved" in response.content
    assert Injection.objects.get(pk=site.pk).units == 5


def test_the_procedure_note_renders_as_html_and_as_a_real_pdf(world, nurse):
    session = signed(nurse, world.patient)
    html = world.client("nurse").get(f"/treatments/sessions/{session.pk}/note/")
    assert html.status_code == 200 and b"Procedure note" in html.content
    response = world.client("nurse").get(f"/treatments/sessions/{session.pk}/note.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    lot = session.vial_uses.get().lot.lot_number
    for expected in ("Procedure note", "Cohen", "155 U in 31 sites", lot, "Temporalis", "U/0.1 mL"):
        assert expected in text


def test_the_chart_panel_shows_the_next_due_date(world, nurse):
    signed(nurse, world.patient)
    response = world.client("nurse").get(f"/treatments/patients/{world.patient.pk}/panel/")
    assert response.status_code == 200
    assert b"next due" in response.content
