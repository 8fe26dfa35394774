"""Celery looks for each app's tasks in `<app>.tasks`; the routing queue's tasks
live beside the outbox they drain, in `core.events`."""

from core.events import deliver_event, email_notifications, sweep_outbox

__all__ = ["deliver_event", "email_notifications", "sweep_outbox"]
