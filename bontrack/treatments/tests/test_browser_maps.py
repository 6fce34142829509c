"""The injection maps of every indication in Chromium: keyboard access, tablet tap targets, the
editor in view after a tap, a muscle target filling the add-site form; screenshots of each map.

Screenshots go to $BONTRACK_SHOTS/maps (default /work/shots/maps) when that directory's parent
exists, at 1280, 820 and 390 px wide.
"""

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

from bontrack.browser import chromium_page
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, Patient
from bontrack.treatments import maps
from bontrack.treatments.actions import charting
from bontrack.treatments.models import TreatmentSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("BONTRACK_SHOTS", "/work/shots")) / "maps"
WIDTHS = (1280, 820, 390)
MIN_TAP_PX = 44

# indication, ICD-10-CM code, sites charted: (muscle, side, units, guidance)
CASES = {
    "chronic_migraine": ("G43.709", []),  # the 31 PREEMPT sites, plus follow-the-pain (FTP)
    "cervical_dystonia": (
        "G24.3",
        [
            ("sternocleidomastoid", "left", "40", "emg"),
            ("sternocleidomastoid", "left", "20", "emg"),
            ("sternocleidomastoid", "left", "10", "emg"),  # past its two spots
            ("scalenes", "right", "15", "emg"),
            ("splenius_capitis", "right", "50", "emg"),
            ("levator_scapulae", "left", "25", "ultrasound"),
            ("semispinalis_capitis", "left", "20", "emg"),
            ("longissimus", "right", "15", "emg"),
            ("trapezius", "right", "30", "landmarks"),
        ],
    ),
    "blepharospasm": ("G24.5", []),  # the initial pattern: 3 pretarsal sites per eye
    "upper_limb_spasticity": (
        "I69.351",
        [
            ("biceps_brachii", "right", "50", "ultrasound"),
            ("biceps_brachii", "right", "50", "ultrasound"),
            ("brachioradialis", "right", "40", "estim"),
            ("flexor_carpi_ulnaris", "right", "30", "estim"),
            ("flexor_digitorum_superficialis", "right", "30", "estim"),
            ("flexor_digitorum_profundus", "right", "20", "estim"),
            ("flexor_digitorum_profundus", "right", "20", "estim"),  # past its spot
            ("flexor_pollicis_longus", "left", "20", "ultrasound"),
            ("lumbricals", "left", "10", "landmarks"),
        ],
    ),
    "lower_limb_spasticity": (
        "I69.351",
        [
            ("gastrocnemius_medial", "left", "50", "emg"),
            ("gastrocnemius_lateral", "left", "50", "emg"),
            ("soleus", "left", "50", "emg"),
            ("tibialis_posterior", "left", "50", "ultrasound"),
            ("flexor_digitorum_longus", "right", "40", "ultrasound"),
        ],
    ),
    # Clinician-built, off-label: a few sites, every other head, face and neck muscle a target.
    "facial_pain": (
        "G50.1",
        [
            ("temporalis", "left", "5", "landmarks"),
            ("corrugator", "left", "5", "landmarks"),
            ("frontalis", "left", "5", "landmarks"),
            ("occipitalis", "left", "5", "landmarks"),
        ],
    ),
}
# Follow-the-pain additions of the migraine cases (temporalis and occipitalis, past their spots).
FTP = [("temporalis", "right", "5"), ("temporalis", "right", "5"), ("occipitalis", "left", "5")]
# A session of several indications: every map it draws.
COMBINED = {"chronic_migraine+cervical_dystonia": ("chronic_migraine", "cervical_dystonia")}


def _session(world, key: str) -> TreatmentSession:
    indications = list(COMBINED.get(key, (key,)))
    nurse = world.users["nurse"]
    today = timezone.localdate()
    patient: Patient = PatientFactory(  # type: ignore[assignment]
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 58) - timedelta(days=9)
    )
    for indication in indications:
        Condition.objects.create(
            patient=patient, indication=indication, icd10_code=CASES[indication][0]
        )
    templates = {"chronic_migraine": "preempt"} if "chronic_migraine" in indications else None
    session = charting.create_session(
        actor=nurse, patient=patient, indications=indications, templates=templates
    )
    for indication in indications:
        for muscle, side, units, guidance in CASES[indication][1]:
            charting.add_injection(
                actor=nurse,
                session=session,
                muscle=muscle,
                side=side,
                units=Decimal(units),
                guidance=guidance,
                indication=indication,
            )
        if indication == "chronic_migraine":
            for muscle, side, units in FTP:
                charting.add_injection(
                    actor=nurse,
                    session=session,
                    muscle=muscle,
                    side=side,
                    units=Decimal(units),
                    indication=indication,
                )
    return session


def _sign_in(page, live_server, cookie: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])


def _target_faults(page, indication: str) -> list[str]:
    """The map's tap targets (the transparent circle of each site and muscle target) measured in
    CSS px: any under 44 px across, and any two of one drawing that overlap."""
    faults = []
    for figure in page.locator(f'.bodymap[data-map="{indication}"] figure').all():
        view = figure.get_attribute("data-view")
        circles = []
        for hit in figure.locator("a.site .hit, a.muscle-target .hit").all():
            box = hit.bounding_box()
            assert box is not None
            name = hit.evaluate("c => c.parentElement.getAttribute('aria-label')")
            if box["width"] < MIN_TAP_PX or box["height"] < MIN_TAP_PX:
                faults.append(f"{view}: {name}: {box['width']:.0f} px")
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            circles.append((name, centre, box["width"] / 2))
        for i, (name1, c1, r1) in enumerate(circles):
            for name2, c2, r2 in circles[i + 1 :]:
                if math.dist(c1, c2) < r1 + r2 - 0.5:  # half a pixel for rounding
                    faults.append(f"{view}: {name1} overlaps {name2}")
    return faults


MAPS_OF = {
    key: COMBINED.get(key, (key,)) for key in [*CASES, *COMBINED]
}  # each session's maps: every indication's, and both of the combined session


def test_every_map_has_tablet_sized_targets_that_never_overlap(world, live_server):
    """Every map of every indication, the combined one too, at 820 px (a tablet) in Chromium."""
    sessions = {key: _session(world, key) for key in MAPS_OF}
    cookie = world.client("nurse").cookies["sessionid"].value
    seen = set()
    with chromium_page({"width": 820, "height": 1100}) as page:
        page.set_default_timeout(60_000)  # a shared, busy machine: first pages are slow
        _sign_in(page, live_server, cookie)
        for key, session in sessions.items():
            page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
            assert page.locator("a.site").count() == session.injections.count(), key
            for ind in MAPS_OF[key]:
                assert page.locator(f'.bodymap[data-map="{ind}"]').count() == 1
                assert _target_faults(page, ind) == [], key
                seen |= {
                    f.get_attribute("data-view")
                    for f in page.locator(f'.bodymap[data-map="{ind}"] figure').all()
                }
        # The clinician-built map offers its muscles as targets, each once (on the drawing
        # its sites go on).
        page.goto(f"{live_server.url}/treatments/sessions/{sessions['facial_pain'].pk}/")
        names = [
            t.get_attribute("aria-label")
            for t in page.locator('.bodymap[data-map="facial_pain"] a.muscle-target').all()
        ]
        assert len(names) == len(set(names)) > 20
    assert seen == {dr.code for body in maps.MAPS.values() for dr in body.drawings}


def test_tab_to_a_site_and_enter_opens_its_editor_in_view(world, live_server):
    session = _session(world, "upper_limb_spasticity")
    cookie = world.client("nurse").cookies["sessionid"].value
    with chromium_page({"width": 820, "height": 900}) as page:
        _sign_in(page, live_server, cookie)
        page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
        page.locator("#h-map").evaluate("h => { h.tabIndex = -1; h.focus(); }")
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.matches('a.site')"):
                break
        label = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert label.startswith("Biceps brachii, right arm, site 1: 50 units")
        page.keyboard.press("Enter")
        editor = page.locator("#site-editor")
        editor.get_by_text("Biceps brachii").wait_for()
        units = editor.get_by_label("Units", exact=True)
        assert units.input_value() == "50.00"
        # The editor's first field has the focus and is on screen (a tablet: below the map).
        assert page.evaluate("document.activeElement.name") == "units"
        assert units.is_visible()
        box = units.bounding_box()
        assert box is not None and 0 <= box["y"] <= 900 - box["height"]
        assert editor.locator("select[name=guidance]").input_value() == "ultrasound"


def test_a_tap_on_a_muscle_without_a_site_fills_the_add_form(world, live_server):
    session = _session(world, "lower_limb_spasticity")
    cookie = world.client("nurse").cookies["sessionid"].value
    with chromium_page({"width": 820, "height": 900}) as page:
        _sign_in(page, live_server, cookie)
        page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
        page.get_by_role("link", name="Add a site: Soleus, right leg").click()
        add = page.get_by_role("region", name="Add a site")
        assert add.locator("[name=muscle]").input_value() == "soleus"
        assert add.locator("[name=side]").input_value() == "right"
        focused_in = "document.activeElement.closest('section').getAttribute('aria-labelledby')"
        assert page.evaluate(focused_in) == "h-add"
        assert page.evaluate("document.activeElement.name") == "units"
        add.locator("[name=units]").fill("40")
        add.locator("[name=guidance]").select_option("emg")
        page.get_by_role("button", name="Add site").click()
        page.get_by_role("link", name="Soleus, right leg, site 1: 40 units, done").wait_for()
        row = session.injections.get(muscle="soleus", side="right")
        assert row.guidance == "emg" and row.units == Decimal(40)


# Everything drawn in a drawing (labels, units, orientation words) that sticks out of its SVG.
CUT_TEXT_JS = """
(figures) => figures.flatMap((figure) => {
  const svg = figure.querySelector("svg").getBoundingClientRect();
  return [...figure.querySelectorAll("svg text")].filter((t) => {
    const b = t.getBoundingClientRect();
    return b.width > 0 && (b.left < svg.left - 1 || b.right > svg.right + 1
      || b.top < svg.top - 1 || b.bottom > svg.bottom + 1);
  }).map((t) => figure.dataset.view + ": " + t.textContent.trim());
})
"""


def _shoot(locator, name: str) -> None:
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        locator.screenshot(path=str(SHOTS / name))


@pytest.mark.parametrize("persona", ["nurse", "physician"])
def test_each_map_reads_at_three_widths_and_a_tap_brings_the_editor_into_view(
    world, live_server, persona
):
    """The charting screen of every map, for the nurse and the physician, at 1280, 820 and 390 px:
    no label or number cut off by its drawing; after a tap on a site its editor is on screen.
    Screenshots go to /work/shots/maps (``<persona>-<map>-<width>.png``, ``-tap-`` after a tap)."""
    sessions = {key: _session(world, key) for key in MAPS_OF}
    cookie = world.client(persona).cookies["sessionid"].value
    with chromium_page({"width": 1280, "height": 1100}) as page:
        page.set_default_timeout(60_000)
        _sign_in(page, live_server, cookie)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 1100 if width > 400 else 844})
            for key, session in sessions.items():
                page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
                card = page.locator("section[aria-labelledby=h-map]")
                cut = page.locator(".bodymap figure").evaluate_all(CUT_TEXT_JS)
                assert cut == [], (key, width)
                _shoot(card, f"{persona}-{key}-{width}.png")
            # A tap on a site of the combined session's neck map: its editor comes into view.
            page.goto(f"{live_server.url}/treatments/sessions/{sessions[next(iter(COMBINED))].pk}/")
            site = page.locator('.bodymap[data-map="cervical_dystonia"] a.site').first
            name = site.get_attribute("aria-label")
            assert name is not None
            site.click()
            editor = page.locator("#site-editor")
            editor.get_by_text(name.split(",")[0]).first.wait_for()
            field = editor.get_by_label("Units", exact=True)
            box = field.bounding_box()
            height = page.viewport_size["height"]
            assert box is not None and 0 <= box["y"] <= height - box["height"], (width, box)
            _shoot(page, f"{persona}-tap-{width}.png")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_note_of_each_indication_draws_its_maps_in_html_and_pdf(world, live_server, tmp_path):
    """The procedure note of every map (the facial-pain one and the combined session's included):
    HTML in Chromium and the PDF (pdftotext, pdftoppm) draw each map with every site.
    Screenshots: ``note-<map>-1280.png`` and the PDF's pages ``note-<map>-pdf-<n>.png``."""
    sessions = {key: _session(world, key) for key in MAPS_OF}
    client = world.client("physician")
    cookie = client.cookies["sessionid"].value
    out = SHOTS if SHOTS.parent.is_dir() else tmp_path
    out.mkdir(exist_ok=True)
    with chromium_page({"width": 1280, "height": 1100}) as page:
        page.set_default_timeout(60_000)
        _sign_in(page, live_server, cookie)
        for key, session in sessions.items():
            page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/note/")
            for ind in MAPS_OF[key]:
                views = page.locator(f'.bodymap[data-map="{ind}"] figure')
                assert views.count() == len(maps.MAPS[ind].drawings), key
            assert page.locator(".bodymap .site").count() == session.injections.count(), key
            assert page.locator(".bodymap figure").evaluate_all(CUT_TEXT_JS) == [], key
            page.screenshot(path=str(out / f"note-{key}-1280.png"), full_page=True)
    for key, session in sessions.items():
        r = client.get(f"/treatments/sessions/{session.pk}/note.pdf")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        pdf = out / f"note-{key}.pdf"
        pdf.write_bytes(r.content)
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        for ind in MAPS_OF[key]:
            assert f"Injection map: {maps.MAPS[ind].label}" in " ".join(text.split()), key
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(out / f"note-{key}-pdf")], check=True
        )
        first = sorted(out.glob(f"note-{key}-pdf-*.png"))[0]
        assert first.stat().st_size > 10_000  # drawn, not an empty page
