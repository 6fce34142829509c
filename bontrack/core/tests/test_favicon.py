"""Browsers ask for /favicon.ico on every page: it answers with the icon, never a 404."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _follow(client: Client, path: str = "/favicon.ico"):
    first = client.get(path)
    assert first.status_code == 301, first.status_code
    assert first["Location"].startswith("/static/") and first["Location"].endswith(".ico")
    icon = client.get(first["Location"])
    assert icon.status_code == 200
    body = icon.getvalue()
    return first, body


def test_favicon_is_a_301_to_a_real_icon_for_anonymous_visitors(client):
    first, body = _follow(client)
    assert body[:4] == b"\x00\x00\x01\x00"  # ICO header
    # The redirect itself is dynamic: never cached forever (the static name may change).
    assert first["Cache-Control"] == "no-store"


def test_favicon_is_reached_before_two_factor_authentication(world):
    from bontrack.accounts.roles import Role
    from bontrack.factories import staff

    user = staff(Role.PHYSICIAN, world.clinic, username="notyetverified")
    client = Client()
    client.force_login(user)  # signed in, TOTP not passed yet
    assert client.get("/patients/").status_code == 302
    _follow(client)


def test_the_svg_icon_is_served(client):
    response = client.get("/static/img/favicon.svg")
    assert response.status_code == 200
    body = response.getvalue()
    assert body.startswith(b"<svg")


@pytest.mark.parametrize(
    "persona,path", [("nurse", "/patients/"), ("patient", "/portal/"), ("anonymous", "/book/x/y/")]
)
def test_staff_portal_and_public_pages_name_the_icon(world, persona, path):
    from bontrack.core.models import Clinic

    if persona == "anonymous":
        c = Clinic.objects.select_related("practice").get(pk=world.clinic.pk)
        path = f"/book/{c.practice.slug}/{c.slug}/"
    html = world.client(persona).get(path).content.decode()
    assert '<link rel="icon" href="/static/favicon.ico"' in html
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
