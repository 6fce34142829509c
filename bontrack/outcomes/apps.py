from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bontrack.outcomes"
    label = "outcomes"
    verbose_name = "Program outcome rollup"
