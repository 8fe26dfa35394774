"""Celery looks for each app's tasks in `<app>.tasks`; the portal's email
notices live beside the subscriber that makes them, in `portal.events`."""

from portal.events import send_client_notice

__all__ = ["send_client_notice"]
