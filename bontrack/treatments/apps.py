from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "bontrack.treatments"
    label = "treatments"
    verbose_name = "Treatments (plans, injection sessions, adverse effects, response reviews)"

    def ready(self) -> None:
        from bontrack.diaries import hooks
        from bontrack.treatments.continuation import continuation_state
        from bontrack.treatments.diary_markers import signed_session_dates

        hooks.provide_session_dates(signed_session_dates)
        hooks.provide_continuation(continuation_state)
