from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from consent import events, panels  # noqa: F401 - registers the kinds and panels
        from consent.selectors import clients_under_emergency
        from core.audit import register_emergency_lookup

        # The audit marks what is read under emergency access; this app owns it.
        register_emergency_lookup(clients_under_emergency)
