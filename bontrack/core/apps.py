from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "bontrack.core"
    label = "core"

    def ready(self) -> None:
        from bontrack import checks  # noqa: F401  (registers system checks)
