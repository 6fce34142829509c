"""The patient's outcome charts render in real Chromium under the Content-Security-Policy (an
<svg> inside each embed, no violation, no console error) on a desktop, a tablet and a phone; the
tooltip works; in print the server-rendered SVG replaces the interactive chart. Screenshots go to
$BONTRACK_CHART_SHOTS (default /tmp/shots-charts/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bontrack.browser import chromium_page
from bontrack.core.tests.test_browser_csp import Watcher, _cookie, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("BONTRACK_CHART_SHOTS", "/tmp/shots-charts"))
CHARTS = ("diary-periods", "diary-cycles", "diary-calendar", "diary-scores")


@pytest.mark.parametrize(
    ("device", "width", "height"),
    [("desktop", 1280, 900), ("tablet", 820, 1180), ("phone", 390, 844)],
)
def test_the_outcome_charts_render_under_the_csp(
    world,
    live_server,
    treated,
    device,
    width,
    height,
):
    patient, _, _ = treated
    cookie = _cookie(world, "nurse")
    with chromium_page(viewport={"width": width, "height": height}) as page:
        watch = Watcher(page)
        _sign_in(page, live_server, cookie)
        page.goto(f"{live_server.url}/diaries/patients/{patient.pk}/")
        for name in CHARTS:
            embed = page.locator(f"#chart-{name} .chart-embed")
            page.wait_for_function(
                "el => el.dataset.chartState === 'drawn'", arg=embed.element_handle()
            )
            assert embed.locator("svg").count() >= 1, name
            box = embed.locator("svg").first.bounding_box()
            assert box and box["width"] <= width, (name, box)
            # drawn: the server-rendered fallback is hidden on screen
            assert not page.locator(f"#chart-{name} .chart-static").is_visible()
        # the tooltip (vega-tooltip without its injected style) opens on a point
        point = page.locator("#chart-diary-periods .chart-embed svg .mark-symbol path").nth(3)
        point.scroll_into_view_if_needed()
        bb = point.bounding_box()
        page.mouse.move(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
        tip = page.locator("#vg-tooltip-element.visible")
        tip.wait_for()
        assert "Days recorded" in tip.inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        watch.check(f"diary-charts-{device}")
        page.screenshot(path=str(SHOTS / f"diary-charts-{device}.png"), full_page=True)
        # print: the server-rendered SVG replaces the interactive chart
        page.emulate_media(media="print")
        for name in CHARTS:
            assert page.locator(f"#chart-{name} .chart-static").is_visible(), name
            assert not page.locator(f"#chart-{name} .chart-embed").is_visible(), name
        watch.check(f"diary-charts-{device}-print")
