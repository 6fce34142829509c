"""BoNTrack settings: every value comes from the environment, with safe defaults.

See .env.example for the documented variables.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _trusted_proxy_networks() -> None:
    for entry in TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ValueError(f"TRUSTED_PROXIES: {exc} (use addresses or CIDR ranges)") from exc


DEMO = env_bool("BONTRACK_DEMO")
DEBUG = env_bool("DEBUG", default=DEMO)
TESTING = env_bool("BONTRACK_TESTING") or "pytest" in sys.modules

DATA_DIR = Path(os.environ.get("BONTRACK_DATA_DIR") or PROJECT_DIR / "var").resolve()


# Stands in for a missing SECRET_KEY outside demo/debug/tests so that every command can start and
# report bontrack.E001 itself; bontrack.wsgi refuses to serve with it (never a usable key).
MISSING_SECRET_KEY = "missing-SECRET_KEY-set-it-in-the-environment-bontrack.E001-refuses-to-serve"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if DEBUG or DEMO or TESTING:
        # Demo and development keep a generated key in the data directory so that
        # sessions survive restarts; production must set SECRET_KEY (check bontrack.E001).
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file = DATA_DIR / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        return key_file.read_text().strip()
    return MISSING_SECRET_KEY


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or TESTING) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "bontrack.core",
    "bontrack.accounts",
    "bontrack.audit",
    "bontrack.patients",
    "bontrack.outcomes",
    "bontrack.portal",
    "bontrack.rules",
    "bontrack.scheduling",
    "bontrack.treatments",
    "bontrack.authorizations",
    "bontrack.inventory",
    "bontrack.diaries",
    "bontrack.claims",
    "bontrack.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "bontrack.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "bontrack.core.middleware.RequestContextMiddleware",
    "bontrack.core.http_errors.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bontrack.audit.hooks.DeniedRequestAuditMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "bontrack.accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bontrack.urls"
WSGI_APPLICATION = "bontrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bontrack.core.context_processors.clinic",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'bontrack.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_SQLITE
# Connections are reused for DB_CONN_MAX_AGE seconds (default 600; 0 closes after each request): a
# new PostgreSQL connection per request cost a factor of 2.7 on the read path (docs/performance.md).
# CONN_HEALTH_CHECKS (below) replaces a connection the server closed before it is used.
_db = dj_database_url.parse(
    DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600"))
)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL for concurrent readers, a busy timeout instead of "database is locked",
    # and IMMEDIATE transactions so that a write transaction takes the write lock
    # at BEGIN: two bookings of one slot serialise instead of deadlocking.
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    if _db["NAME"] not in ("", ":memory:"):
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    _db.setdefault("OPTIONS", {})
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests that are not about hashing use MD5.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "patients:list"

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_ENABLE_ADMIN = False
# The lockout counts failures per client address, read the same way as the audit trail's source IP.
AXES_CLIENT_IP_CALLABLE = "bontrack.core.client_ip.client_ip"

# Audit rows an attacker can cause are capped per source IP and per user, per minute (docs/audit.md).
AUDIT_DENIED_EVENTS_PER_MINUTE = int(os.environ.get("AUDIT_DENIED_EVENTS_PER_MINUTE", "30"))
AUDIT_FAILED_SIGNIN_EVENTS_PER_MINUTE = int(
    os.environ.get("AUDIT_FAILED_SIGNIN_EVENTS_PER_MINUTE", "30")
)

# Audit rows of reads (views, searches, exports), each in its own transaction, commit on PostgreSQL
# without waiting for the WAL flush unless this is set (docs/performance.md: a database crash may
# lose the last fraction of a second of read rows; changes and their audit rows always wait).
AUDIT_READS_SYNCHRONOUS_COMMIT = env_bool("AUDIT_READS_SYNCHRONOUS_COMMIT", default=False)

STAFF_IDLE_TIMEOUT_SECONDS = 15 * 60
PATIENT_IDLE_TIMEOUT_SECONDS = 30 * 60
# A staff session ends this long after sign-in even when it stays active (patients: idle timeout only).
STAFF_SESSION_MAX_AGE_SECONDS = int(os.environ.get("STAFF_SESSION_MAX_AGE_SECONDS", str(12 * 3600)))
# Issuing a token, granting a role and resetting a password need a TOTP code this recent (step-up).
MFA_STEP_UP_SECONDS = int(os.environ.get("MFA_STEP_UP_SECONDS", "300"))
# API tokens expire after this many days at most (an administrator may choose fewer).
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "90"))
# Password reset by e-mail: links stay valid this long (Django's setting); each address, and each
# client IP (several people may share one), may ask this many times per hour (counted in the cache).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", "3600"))
PASSWORD_RESET_PER_HOUR = int(os.environ.get("PASSWORD_RESET_PER_HOUR", "5"))
PASSWORD_RESET_PER_IP_PER_HOUR = int(os.environ.get("PASSWORD_RESET_PER_IP_PER_HOUR", "20"))
# The idle timeout slides with activity, but the session row is rewritten at most once per
# SESSION_SLIDE_SECONDS (not on every page view): a session then ends between the idle timeout minus
# this and the idle timeout after the last request, never later.
SESSION_SLIDE_SECONDS = int(os.environ.get("SESSION_SLIDE_SECONDS", "60"))
SESSION_COOKIE_AGE = PATIENT_IDLE_TIMEOUT_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = "BoNTrack"

# --- Security (production defaults; check --deploy reports 0 warnings) -------
SECURE = not (DEBUG or TESTING) and env_bool("BONTRACK_SECURE", default=True)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", default=SECURE) else None
)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if SECURE else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDR ranges).
# Default: none, so the header is ignored and the client is the TCP peer. With proxies, the client
# is the right-most address of X-Forwarded-For that is not a trusted proxy (bontrack.core.client_ip),
# for the sign-in lockout, the public booking rate limit and the audit trail alike.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
_trusted_proxy_networks()  # refuse a malformed entry at start-up

# Content-Security-Policy (django-csp 4): no inline script or style anywhere; page JS lives in
# <app>/static/<app>/*.js and CSS in static files (CONVENTIONS.md, "Headers").
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# No powerful browser feature is used on our own pages (the video call opens on the video
# provider's site, which asks for camera and microphone itself).
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), midi=(), "
    "display-capture=(), accelerometer=(), gyroscope=(), magnetometer=()"
)

# --- Internationalisation and time ------------------------------------------
LANGUAGE_CODE = "en-us"
CLINIC_TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/New_York")
TIME_ZONE = CLINIC_TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Static -----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if DEBUG or TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)


# --- Email ------------------------------------------------------------------
def _email_settings(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme in {"smtp", "smtps", "submission"}:
        query = parse_qs(parsed.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port
            or (465 if scheme == "smtps" else 587 if scheme == "submission" else 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": scheme == "smtps",
            "EMAIL_USE_TLS": scheme == "submission" or query.get("tls", ["0"])[0] == "1",
            "EMAIL_TIMEOUT": 20,
        }
    raise ValueError(
        f"EMAIL_URL scheme {scheme!r} is not supported (console, locmem, smtp, smtps, submission)"
    )


EMAIL_URL = os.environ.get("EMAIL_URL", "console://")
globals().update(_email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "BoNTrack <no-reply@bontrack.local>")

# --- Scheduling and messages ----------------------------------------------------
# The public address used in emails and calendar invitations (links must work outside the clinic).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Video room link for each video appointment; {token} is replaced by an unguessable token.
VIDEO_ROOM_URL_TEMPLATE = os.environ.get(
    "VIDEO_ROOM_URL_TEMPLATE", "https://meet.jit.si/bontrack-{token}"
)
# How long the reschedule/cancel links in a booking email stay valid (seconds; default 60 days).
BOOKING_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("BOOKING_LINK_MAX_AGE_SECONDS", str(60 * 24 * 3600))
)
# The portal invitation e-mailed after an online booking (signed, single use), in seconds.
PORTAL_INVITE_MAX_AGE_SECONDS = int(
    os.environ.get("PORTAL_INVITE_MAX_AGE_SECONDS", str(7 * 24 * 3600))
)
# A second free consultation by the same person within this many days is offered as a move.
FREE_CONSULT_REPEAT_DAYS = int(os.environ.get("FREE_CONSULT_REPEAT_DAYS", "30"))
# SMS delivery: a dotted path to a backend class (console by default).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "bontrack.core.messaging.sms.ConsoleSmsBackend")
# Domain part of the Message-ID the outbox gives each email (so a retried send keeps its identity).
OUTBOX_MESSAGE_ID_DOMAIN = os.environ.get("OUTBOX_MESSAGE_ID_DOMAIN", "bontrack.local")

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

NINJA_PAGINATION_MAX_LIMIT = 200

# --- Request size -------------------------------------------------------------
# Bodies above this (JSON, form fields) are refused: JSON 413 under /api/, the 413 page elsewhere
# (bontrack.core.http_errors). File uploads stream to disk and have their own limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2 * 1024 * 1024 + 512 * 1024))
)
