from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bontrack.outcomes"
    label = "outcomes"
    verbose_name = "Program outcome rollup"

    def ready(self) -> None:
        from bontrack.outcomes import services
        from bontrack.patients.services import charts_merged, rebuilt_after_merge

        def _mark(sender: object, survivor_id: int, duplicate_id: int, **kwargs: object) -> None:
            services.mark_many([survivor_id, duplicate_id])

        charts_merged.connect(_mark, dispatch_uid="outcomes.charts_merged", weak=False)
        # The rollup is derived: a merge does not move it, the refresh above rebuilds both charts.
        rebuilt_after_merge(
            "outcomes.refreshmark", "outcomes.patientoutcome", "outcomes.outcomefact"
        )
