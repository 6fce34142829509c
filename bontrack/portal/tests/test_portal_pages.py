"""Every portal page carries the portal's header and a way back to the portal home; the home
page's title is plain text (issue 11 item 8)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/portal/diary/",
    "/portal/diary/week/",
    "/portal/diary/before-your-visit/",
    "/portal/checkins/",
]


def test_the_portal_home_title_is_plain_text(world):
    html = world.client("patient").get("/portal/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title and title.strip() == "My care · BoNTrack"
    assert "← Back to My care" not in html  # home needs no way back to itself


@pytest.mark.parametrize("url", PAGES)
def test_every_portal_page_has_the_header_and_a_way_back(world, url):
    response = world.client("patient").get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert '<header class="top">' in html and 'href="/portal/">My care</a>' in html
    assert '<a href="/portal/">← Back to My care</a>' in html
