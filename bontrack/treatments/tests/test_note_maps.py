"""The procedure note (HTML and PDF) names the indications, maps each site on its indication's
drawing and records what billing needs: limbs, muscles per limb, sides, guidance. The map layout
covers every muscle of every protocol."""

from __future__ import annotations

import math
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


def test_each_map_spot_is_inside_its_drawing_and_a_tap_target_apart_from_every_other():
    """Every spot of every drawing (where charted sites go, and muscle targets), the head's PREEMPT
    sites and the facial-pain map's drawings included: two tap radii apart, so no two targets
    overlap (the browser test measures them at 820 px)."""
    for body in maps.MAPS.values():
        reach = 2 * (maps.LIMB_HIT_RADIUS if body.kind == "limb" else maps.HIT_RADIUS)
        for drawing in body.drawings:
            spots = [p for pts in drawing.spots.values() for p in pts]
            for x, y in spots:
                assert 0 < x < drawing.width and 0 < y < drawing.height, drawing.code
            for i, p1 in enumerate(spots):
                for p2 in spots[i + 1 :]:
                    assert math.dist(p1, p2) >= reach, (drawing.code, p1, p2)


def test_sites_past_their_muscles_spots_keep_clear_of_every_other_target(world):
    nurse = world.users["nurse"]
    patient = _patient(world, ("chronic_migraine", "G43.709"))
    session = charting.create_session(
        actor=nurse, patient=patient, templates={"chronic_migraine": "preempt"}
    )
    for muscle, side in [("temporalis", "right")] * 3 + [
        ("occipitalis", "left"),
        ("trapezius", "left"),
    ]:
        charting.add_injection(
            actor=nurse, session=session, muscle=muscle, side=side, units=Decimal(5)
        )
    built = maps.build(
        list(session.injections.all()), session.indications, labels=facts.muscle_labels()
    )
    for view in built["maps"][0]["views"]:
        points = [(p["x"], p["y"]) for p in view["points"]]
        for i, p1 in enumerate(points):
            assert 0 < p1[0] < view["width"] and 0 < p1[1] < view["height"]
            for p2 in points[i + 1 :]:
                assert math.dist(p1, p2) >= 2 * maps.HIT_RADIUS, (view["code"], p1, p2)
    extra = [
        p for v in built["maps"][0]["views"] for p in v["points"] if p["injection"].follow_the_pain
    ]
    assert len(extra) == 5


def test_a_muscle_two_drawings_show_is_a_target_on_the_one_its_sites_go_on():
    built = maps.build(
        [],
        ["facial_pain"],
        labels=facts.muscle_labels(),
        muscles={"facial_pain": facts.protocol_muscles("facial_pain")},
        targets={"facial_pain": ("", facts.protocol_muscles("facial_pain"))},
    )
    where = {
        (t["muscle"], t["side"]): v["code"] for v in built["maps"][0]["views"] for t in v["targets"]
    }
    count = sum(len(v["targets"]) for v in built["maps"][0]["views"])
    assert count == len(where)  # each (muscle, side) offered once
    assert where[("corrugator", "left")] == "head_front"  # not on the face drawing as well
    assert where[("trapezius", "left")] == "head_back"
    assert where[("orbicularis_oculi_pretarsal_upper_medial", "left")] == "face"
    assert where[("sternocleidomastoid", "left")] == "neck_front"
    face = next(v for v in built["maps"][0]["views"] if v["code"] == "face")
    assert "Corrugator" not in {lab["text"] for lab in face["labels"]}


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
