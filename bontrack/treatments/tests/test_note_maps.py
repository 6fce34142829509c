"""The procedure note (HTML and PDF) names the indications, maps each site on its indication's
drawing and records what billing needs: limbs, muscles per limb, sides, guidance. The map layout
covers every muscle of every protocol."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, Patient
from bontrack.treatments import facts, maps
from bontrack.treatments.actions import charting

pytestmark = pytest.mark.django_db


def _patient(world, *conditions: tuple[str, str]):
    today = timezone.localdate()
    patient: Patient = PatientFactory(  # type: ignore[assignment]
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 50) - timedelta(days=9)
    )
    for indication, code in conditions:
        Condition.objects.create(patient=patient, indication=indication, icd10_code=code)
    return patient


def _limb_session(world):
    nurse = world.users["nurse"]
    patient = _patient(world, ("upper_limb_spasticity", "I69.351"))
    session = charting.create_session(
        actor=nurse, patient=patient, indications=["upper_limb_spasticity"]
    )
    for muscle, side, units, guidance in (
        ("biceps_brachii", "right", "60", "ultrasound"),
        ("flexor_carpi_radialis", "right", "30", "ultrasound"),
        ("flexor_carpi_ulnaris", "right", "30", "estim"),
        ("pronator_teres", "left", "25", "emg"),
    ):
        charting.add_injection(
            actor=nurse,
            session=session,
            muscle=muscle,
            side=side,
            units=Decimal(units),
            guidance=guidance,
        )
    return session


# ---- layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("indication", facts.indication_codes())
def test_every_muscle_and_side_of_each_protocol_lands_on_its_map(indication):
    missing = [
        (muscle, side)
        for muscle in sorted(facts.protocol_muscles(indication))
        for side in facts.protocol_sides(indication, muscle)
        if maps.locate(indication, muscle, side) is None
    ]
    assert missing == []


def test_each_map_spot_is_inside_its_drawing_and_apart_from_its_neighbours():
    for body in maps.MAPS.values():
        for drawing in body.drawings:
            spots = [p for pts in drawing.spots.values() for p in pts[:1]]
            for x, y in spots:
                assert 0 < x < drawing.width and 0 < y < drawing.height, drawing.code
            if drawing.code.startswith("head_"):
                continue  # the PREEMPT head drawings (fixed sites), also reused by facial pain
            # First spots (where a muscle target sits) are at least a tap target apart.
            for i, (x1, y1) in enumerate(spots):
                for x2, y2 in spots[i + 1 :]:
                    gap = ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5
                    assert gap >= 2 * maps.HIT_RADIUS - 6, (drawing.code, (x1, y1), (x2, y2))


def test_a_combined_session_draws_trapezius_on_the_head_and_on_the_neck(world):
    nurse = world.users["nurse"]
    patient = _patient(world, ("chronic_migraine", "G43.709"), ("cervical_dystonia", "G24.3"))
    session = charting.create_session(
        actor=nurse, patient=patient, indications=["chronic_migraine", "cervical_dystonia"]
    )
    charting.add_injection(
        actor=nurse,
        session=session,
        indication="cervical_dystonia",
        muscle="trapezius",
        side="left",
        units=Decimal(30),
    )
    built = maps.build(
        list(session.injections.all()),
        session.indications,
        labels=facts.muscle_labels(),
    )
    by_map = {
        m["indication"]: {p["injection"].muscle for v in m["views"] for p in v["points"]}
        for m in built["maps"]
    }
    assert "trapezius" in by_map["chronic_migraine"] and "trapezius" in by_map["cervical_dystonia"]
    assert by_map["cervical_dystonia"] == {"trapezius"}
    assert built["other"] == []
    page = world.client("nurse").get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert 'data-map="chronic_migraine"' in page and 'data-map="cervical_dystonia"' in page
    assert 'data-view="neck_back"' in page and 'data-view="head_back"' in page


# ---- the note ----------------------------------------------------------------------------------


def test_the_html_note_maps_the_sites_and_records_limbs_muscles_and_guidance(world):
    session = _limb_session(world)
    r = world.client("physician").get(f"/treatments/sessions/{session.pk}/note/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "upper limb spasticity" in html.lower()
    assert 'data-view="arm_right"' in html and 'data-view="arm_left"' in html
    assert html.count('class="site done') == 4
    assert "<script>" not in html
    assert "3 muscles in this limb: Biceps brachii, Flexor carpi radialis" in html
    assert "1 muscle in this limb: Pronator teres" in html
    assert "Right arm" in html and "Left arm" in html
    assert "Ultrasound, Electrical stimulation" in html and "Needle EMG" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_pdf_note_carries_indication_limbs_muscles_sides_and_guidance(world, tmp_path):
    session = _limb_session(world)
    r = world.client("physician").get(f"/treatments/sessions/{session.pk}/note.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    shots = Path(os.environ.get("BONTRACK_SHOTS", "/work/shots")) / "maps"
    pdf = (shots if shots.is_dir() else tmp_path) / "note-arms.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "upper limb spasticity" in flat.lower()
    assert "Injection map: Arms" in flat
    assert "For billing: limbs, sides, muscles and guidance" in flat
    assert "Right arm" in flat and "Left arm" in flat
    assert "3 muscles in this limb" in flat and "1 muscle in this limb" in flat
    assert "Ultrasound, Electrical stimulation" in flat and "Needle EMG" in flat, flat


def test_a_neck_and_eyes_note_names_sides_not_limbs(world):
    nurse = world.users["nurse"]
    patient = _patient(world, ("cervical_dystonia", "G24.3"))
    session = charting.create_session(
        actor=nurse, patient=patient, indications=["cervical_dystonia"]
    )
    for side in ("left", "right"):
        charting.add_injection(
            actor=nurse,
            session=session,
            muscle="splenius_capitis",
            side=side,
            units=Decimal(40),
            guidance="emg",
        )
    html = world.client("physician").get(f"/treatments/sessions/{session.pk}/note/").content
    text = html.decode()
    assert "in this limb" not in text
    assert "<td>Left</td>" in text and "<td>Right</td>" in text
    assert 'data-view="neck_right"' in text and 'data-view="neck_left"' in text
