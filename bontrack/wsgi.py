import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
application = get_wsgi_application()


def _refuse_placeholder_key() -> None:
    """Never serve with the stand-in for a missing SECRET_KEY (commands report it as bontrack.E001)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if settings.SECRET_KEY == settings.MISSING_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: the server refuses to start (bontrack.E001). "
            "Set SECRET_KEY to a random value of 50+ characters."
        )


_refuse_placeholder_key()
