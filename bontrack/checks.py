"""System checks with stable IDs that guard production settings (the rule data: bontrack/rules/checks.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


def _secret_key_problems() -> list[Any]:
    key = settings.SECRET_KEY
    if not key or key == getattr(settings, "MISSING_SECRET_KEY", None) or len(key) < 50:
        return [
            Error(
                "SECRET_KEY must be set to a random value of 50+ characters.",
                hint="Set SECRET_KEY in the environment; the server refuses to start without it.",
                id="bontrack.E001",
            )
        ]
    return []


@register(Tags.security)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[Any]:
    """Every command reports a missing SECRET_KEY; as a warning, so that development commands such
    as makemigrations still run. check --deploy reports it as the error bontrack.E001."""
    if getattr(settings, "MISSING_SECRET_KEY", None) == settings.SECRET_KEY:
        return [
            Warning(
                "SECRET_KEY is not set: commands run, but the server refuses to start "
                "(check --deploy reports bontrack.E001).",
                id="bontrack.W003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_production_settings(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = _secret_key_problems()
    if settings.DEBUG:
        problems.append(Error("DEBUG must be off in production.", id="bontrack.E002"))
    if not settings.ALLOWED_HOSTS:
        problems.append(Error("ALLOWED_HOSTS must list the public host names.", id="bontrack.E003"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "SQLite is the embedded default; a practice with several app servers needs PostgreSQL (DATABASE_URL).",
                id="bontrack.W001",
            )
        )
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        problems.append(
            Warning("EMAIL_URL is console://: patients will receive no email.", id="bontrack.W002")
        )
    return problems


@register()
def check_time_zone(app_configs: Any, **kwargs: Any) -> list[Any]:
    import zoneinfo

    if settings.CLINIC_TIME_ZONE not in zoneinfo.available_timezones():
        return [
            Error(
                f"CLINIC_TIME_ZONE {settings.CLINIC_TIME_ZONE!r} is not an IANA zone.",
                id="bontrack.E004",
            )
        ]
    return []
