from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bontrack.audit"
    label = "audit"
