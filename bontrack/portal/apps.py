from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "bontrack.portal"
    label = "portal"
