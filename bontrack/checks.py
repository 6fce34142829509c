"""System checks with stable IDs that guard production settings and the rule data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if not settings.SECRET_KEY or len(settings.SECRET_KEY) < 50:
        problems.append(
            Error("SECRET_KEY must be set to a random value of 50+ characters.", id="bontrack.E001")
        )
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


@register()
def check_rule_data(app_configs: Any, **kwargs: Any) -> list[Any]:
    try:
        from clinic_rules import contract

        contract.list_rules()
        contract.vocabulary()
    except Exception as exc:  # noqa: BLE001 - any failure to load the rule data is the finding
        return [Error(f"The clinic_rules data does not load: {exc}", id="bontrack.E005")]
    return []
