from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "bontrack.claims"
    label = "claims"
    verbose_name = "Claims (billing lines, work queue, 837P batches)"

    def ready(self) -> None:
        from bontrack.claims.actions.generate import on_session_claimable
        from bontrack.treatments import hooks

        hooks.on_claimable(on_session_claimable)
