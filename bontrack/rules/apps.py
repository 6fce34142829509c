from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "bontrack.rules"
    label = "rules"
    verbose_name = "Clinical rules (wrappers around clinic_rules)"
