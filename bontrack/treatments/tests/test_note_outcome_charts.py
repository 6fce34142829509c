"""The procedure note (HTML and PDF) carries the patient's outcome charts, rendered by the chart
component's server renderer (vl-convert), with the figures as text."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from bontrack.diaries import facts as diary_facts
from bontrack.diaries.tests.conftest import build_diary
from bontrack.treatments.tests.conftest import at, signed

pytestmark = pytest.mark.django_db


def _pdf(world, session) -> PdfReader:
    response = world.client("nurse").get(f"/treatments/sessions/{session.pk}/note.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    return PdfReader(io.BytesIO(response.content))


def test_the_pdf_note_embeds_the_outcome_charts_and_their_figures(world, nurse):
    today = timezone.localdate()
    build_diary(world.patient, end=today, days=150)
    signed(nurse, world.patient, performed_at=at(today - timedelta(days=100)))
    session = signed(nurse, world.patient, performed_at=at(today - timedelta(days=5)))
    as_of = today - timedelta(days=5)

    reader = _pdf(world, session)

    images = [img for page in reader.pages for img in page.images]
    assert len(images) >= 3, "periods, cycles and calendar charts as images"
    text = "\n".join(page.extract_text() for page in reader.pages)
    n = diary_facts.period_days()
    assert f"Outcome charts (diary and questionnaires up to {as_of:%Y-%m-%d})" in text
    for title in (f"Days per {n}-day period", "Headache days by week after each injection"):
        assert title in text
    summary = diary_facts.diary_summary(world.patient, as_of - timedelta(days=3650), as_of)
    last = summary["periods"][-1]
    row = (
        f"{last['start']} to {last['end']} {last['recorded_days']} of {last['days']} "
        f"{last['headache_days']} {last['migraine_days']} {last['any_acute_medication_days']}"
    )
    assert row in " ".join(text.split()), row


def test_a_note_without_diary_or_questionnaires_has_no_chart_page(world, nurse):
    session = signed(nurse, world.patient)
    reader = _pdf(world, session)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Outcome charts" not in text
    assert not [img for page in reader.pages for img in page.images]


def test_the_html_note_shows_the_charts_without_script(world, nurse):
    today = timezone.localdate()
    build_diary(world.patient, end=today, days=60)
    session = signed(nurse, world.patient, performed_at=at(today - timedelta(days=2)))
    html = world.client("nurse").get(f"/treatments/sessions/{session.pk}/note/").content.decode()
    assert "Outcome charts" in html
    assert 'class="chart-static" src="data:image/svg+xml;base64,' in html
