from __future__ import annotations

import pytest

from bontrack.settings import _email_settings


@pytest.mark.parametrize(
    "url,expected",
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://u:p%40ss@mail.example.org:2525",
            {
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 2525,
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": False,
            },
        ),
        ("submission://mail.example.org", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True}),
        ("smtps://mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
    ],
)
def test_email_url_is_parsed(url, expected):
    parsed = _email_settings(url)
    assert {k: parsed[k] for k in expected} == expected


def test_an_unknown_email_scheme_is_refused():
    with pytest.raises(ValueError, match="not supported"):
        _email_settings("carrier-pigeon://coop")
