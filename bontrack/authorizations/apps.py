from django.apps import AppConfig


class AuthorizationsConfig(AppConfig):
    name = "bontrack.authorizations"
    label = "authorizations"
    verbose_name = "Prior authorizations and payer packets"
