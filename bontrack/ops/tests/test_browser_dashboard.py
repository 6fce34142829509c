"""The dashboard in real Chromium: its charts render (vega-embed under the CSP) and a click on a
number lists the right patients. Screenshots go to $BONTRACK_SHOTS/dash when that is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import time_machine

from bontrack.browser import chromium_page
from bontrack.ops.dashboard import refresh
from bontrack.ops.tests import dashboard_data as data
from bontrack.scheduling.tests.conftest import sched  # noqa: F401 - the scheduling fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERIOD = "from=2025-06&to=2026-05"
SIZES = {"desktop": (1280, 900), "tablet": (820, 1180), "phone": (390, 844)}


def test_the_dashboard_draws_its_charts_and_a_number_lists_its_patients(world, sched, live_server):  # noqa: F811
    data.build(world, sched)
    with time_machine.travel(data.NOW, tick=False):
        refresh.run_marked(100)
    cookie = world.client("physician").cookies["sessionid"].value
    shots = os.environ.get("BONTRACK_SHOTS")
    for size, (width, height) in SIZES.items():
        with chromium_page(viewport={"width": width, "height": height}) as page:
            violations: list[str] = []
            page.on(
                "console",
                lambda m, seen=violations: (
                    seen.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            page.context.add_cookies(
                [{"name": "sessionid", "value": cookie, "url": live_server.url}]
            )
            page.goto(f"{live_server.url}/dashboard/?{PERIOD}")
            figures = page.locator(".dash-figure")
            assert figures.count() == 8
            # Every figure's chart is drawn by vega-embed in the page (an SVG or a canvas).
            page.wait_for_function(
                "document.querySelectorAll('.chart-embed svg, .chart-embed canvas').length >= 8"
            )
            assert "60.0%" in page.locator("[data-figure=reduction] .dash-headline").inner_text()
            assert violations == []
            if shots:
                out = Path(shots) / "dash"
                out.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out / f"dashboard-{size}.png"), full_page=True)
            if size != "desktop":
                continue
            page.get_by_role("link", name="Patients behind Responder: 1").click()
            page.wait_for_url("**/dashboard/patients/**")
            table = page.locator("table").text_content() or ""
            assert "Cohen, Rosa" in table and "Green, Adam" not in table
            if shots:
                page.screenshot(
                    path=str(Path(shots) / "dash" / "click-through.png"), full_page=True
                )
            page.goto(f"{live_server.url}/dashboard/?{PERIOD}")
            page.get_by_role("link", name="Patients behind Missed: 1").click()
            page.wait_for_url("**/dashboard/patients/**")
            table = page.locator("table").text_content() or ""
            assert "Green, Adam" in table and "Cohen, Rosa" not in table
