from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "bontrack.treatments"
    label = "treatments"
    verbose_name = "Treatments (plans, injection sessions, adverse effects, response reviews)"
