from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "capacity"
    verbose_name = "Services, capacity and waits"

    def ready(self) -> None:
        from capacity import events, services  # noqa: F401 - registers the kind
        from core import events as core_events
        from referrals.events import REFERRAL_RECEIVED

        # The routing queue raises the early warning: when a referral to a
        # service is delivered, in that delivery's transaction (docs/capacity.md).
        core_events.subscribe(REFERRAL_RECEIVED, services.warn_if_queue_growing)
