"""The injection maps of every indication in Chromium: keyboard access, tablet tap targets, the
editor in view after a tap, a muscle target filling the add-site form; screenshots of each map.

Screenshots go to $BONTRACK_SHOTS/maps (default /work/shots/maps) when that directory's parent
exists, at 1280, 820 and 390 px wide.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from bontrack.browser import chromium_page
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, Patient
from bontrack.treatments.actions import charting
from bontrack.treatments.models import TreatmentSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("BONTRACK_SHOTS", "/work/shots")) / "maps"
WIDTHS = (1280, 820, 390)
MIN_TAP_PX = 44

# indication, ICD-10-CM code, sites charted: (muscle, side, units, guidance)
CASES = {
    "cervical_dystonia": (
        "G24.3",
        [
            ("sternocleidomastoid", "left", "40", "emg"),
            ("sternocleidomastoid", "left", "20", "emg"),
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
}


def _session(world, indication: str) -> TreatmentSession:
    code, rows = CASES[indication]
    nurse = world.users["nurse"]
    today = timezone.localdate()
    patient: Patient = PatientFactory(  # type: ignore[assignment]
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 58) - timedelta(days=9)
    )
    Condition.objects.create(patient=patient, indication=indication, icd10_code=code)
    session = charting.create_session(actor=nurse, patient=patient, indications=[indication])
    for muscle, side, units, guidance in rows:
        charting.add_injection(
            actor=nurse,
            session=session,
            muscle=muscle,
            side=side,
            units=Decimal(units),
            guidance=guidance,
            indication=indication,
        )
    return session


def _sign_in(page, live_server, cookie: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])


def _small_targets(page) -> list[str]:
    """Map links (sites and muscle targets) whose box is under 44 px either way."""
    small = []
    for link in page.locator("a.site, a.muscle-target").all():
        box = link.bounding_box()
        assert box is not None
        if box["width"] < MIN_TAP_PX or box["height"] < MIN_TAP_PX:
            small.append(f"{link.get_attribute('aria-label')}: {box['width']:.0f} px")
    return small


def test_every_map_has_tablet_sized_targets_and_is_drawn_at_three_widths(world, live_server):
    sessions = {ind: _session(world, ind) for ind in CASES}
    cookie = world.client("nurse").cookies["sessionid"].value
    shoot = SHOTS.parent.is_dir()
    if shoot:
        SHOTS.mkdir(exist_ok=True)
    with chromium_page({"width": 820, "height": 1100}) as page:
        _sign_in(page, live_server, cookie)
        for ind, session in sessions.items():
            page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
            assert page.locator(f'.bodymap[data-map="{ind}"]').count() == 1
            assert page.locator("a.site").count() == session.injections.count()
            assert _small_targets(page) == [], ind
        if shoot:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 1100})
                for ind, session in sessions.items():
                    page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/")
                    page.locator(f'.bodymap[data-map="{ind}"]').screenshot(
                        path=str(SHOTS / f"{ind}-{width}.png")
                    )
                    page.screenshot(path=str(SHOTS / f"{ind}-page-{width}.png"))
                    for figure in page.locator(f'.bodymap[data-map="{ind}"] figure').all():
                        view = figure.get_attribute("data-view")
                        figure.screenshot(path=str(SHOTS / f"view-{view}-{width}.png"))
            page.set_viewport_size({"width": 1280, "height": 1100})
            for ind, session in sessions.items():
                page.goto(f"{live_server.url}/treatments/sessions/{session.pk}/note/")
                page.screenshot(path=str(SHOTS / f"note-{ind}-1280.png"), full_page=True)


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
