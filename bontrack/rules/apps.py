from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "bontrack.rules"
    label = "rules"
    verbose_name = "Clinical rules (wrappers around clinic_rules)"

    def ready(self) -> None:
        from bontrack.rules import checks  # noqa: F401  (registers the rule data check)
