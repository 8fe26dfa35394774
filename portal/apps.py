from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client portal: the client's own account, what they see of their
    record's audit, their consent, their referrals and the survey
    (docs/portal.md)."""

    name = "portal"
    verbose_name = "Client portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The email notices' subscriber and the client page's account panel.
        from portal import events, panels  # noqa: F401
