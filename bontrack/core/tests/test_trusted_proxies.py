"""The client address behind a reverse proxy: X-Forwarded-For counts only from trusted proxies.

The same address feeds the sign-in lockout (django-axes) and the audit trail's source IP.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from bontrack.audit.models import AuditEvent
from bontrack.core.client_ip import client_ip
from bontrack.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "127.0.0.9"


def _ip(remote: str, forwarded: str | None = None) -> str | None:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


@override_settings(TRUSTED_PROXIES=[])
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored():
    assert _ip(PROXY, "203.0.113.7") == PROXY
    assert _ip("198.51.100.4", "203.0.113.7, 127.0.0.9") == "198.51.100.4"


@override_settings(TRUSTED_PROXIES=["127.0.0.0/8", "::1"])
def test_with_a_trusted_proxy_the_client_is_the_right_most_untrusted_address():
    # the visitor's own header says 1.2.3.4; the proxy appended the real peer 203.0.113.7
    assert _ip(PROXY, "1.2.3.4, 203.0.113.7") == "203.0.113.7"
    # two trusted hops are skipped
    assert _ip(PROXY, "203.0.113.7, 127.0.0.3") == "203.0.113.7"
    # a peer that is not a trusted proxy is the client whatever it claims
    assert _ip("198.51.100.4", "203.0.113.7") == "198.51.100.4"
    # no header: the proxy itself
    assert _ip(PROXY) == PROXY
    # a malformed hop stops the walk at the last believable address
    assert _ip(PROXY, "203.0.113.7, not-an-ip") == PROXY
    assert _ip("::1", "2001:db8::5") == "2001:db8::5"


def _chart_view_ip(world, **headers) -> str | None:
    client = world.client("nurse")
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    assert client.get(f"/patients/{world.patient.pk}/", **headers).status_code == 200
    event = AuditEvent.objects.exclude(pk__in=before).get(action="view")
    return event.source_ip


@override_settings(TRUSTED_PROXIES=[])
def test_the_audit_trail_ignores_a_forged_header_by_default(world):
    ip = _chart_view_ip(world, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert ip == PROXY


@override_settings(TRUSTED_PROXIES=["127.0.0.0/8"])
def test_the_audit_trail_records_the_client_behind_a_trusted_proxy(world):
    ip = _chart_view_ip(world, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert ip == "203.0.113.7"


def _fail(client: Client, forwarded: str) -> int:
    return client.post(
        "/accounts/login/",
        {"username": "nurse", "password": "wrong-password"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    ).status_code


def _sign_in(forwarded: str) -> int:
    return (
        Client()
        .post(
            "/accounts/login/",
            {"username": "nurse", "password": TEST_PASSWORD},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        .status_code
    )


@override_settings(TRUSTED_PROXIES=[])
def test_a_forged_header_does_not_escape_the_lockout(world):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, f"203.0.113.{n}")  # a new "address" for every try
    assert _sign_in("203.0.113.99") == 429


@override_settings(TRUSTED_PROXIES=["127.0.0.0/8"])
def test_behind_a_trusted_proxy_one_clients_lockout_does_not_lock_out_another(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, "203.0.113.7")
    assert _sign_in("203.0.113.7") == 429  # the attacker is locked out
    assert _sign_in("198.51.100.4") == 302  # a colleague behind the same proxy signs in
