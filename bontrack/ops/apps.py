from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The top layer: demo data, seed, serve, backup and restore commands, the console script."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bontrack.ops"
    label = "ops"
