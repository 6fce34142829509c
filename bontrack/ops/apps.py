from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The top layer: demo data, seed, serve, backup and restore commands, the console script,
    and the program dashboard (which keeps the ``outcomes`` rollup current)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bontrack.ops"
    label = "ops"

    def ready(self) -> None:
        from bontrack.core import jobs
        from bontrack.ops.dashboard.refresh import run_marked

        jobs.register("outcomes.refresh", run_marked)
