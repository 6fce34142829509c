from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bontrack.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from bontrack.accounts.middleware import mark_signed_in

        user_logged_in.connect(mark_signed_in, dispatch_uid="bontrack_mark_signed_in")
