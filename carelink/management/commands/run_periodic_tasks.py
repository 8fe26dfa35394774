"""Celery beat's schedule, run in this process: the embedded deployment's beat.

Without a broker (no REDIS_URL) events are delivered in-process after commit,
and nothing else would run the outbox sweep or the overdue-referral check.
`make demo` runs this beside the web server so a small clinic gets both.
"""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run CELERY_BEAT_SCHEDULE's tasks in this process, on their intervals."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="run every task once and exit")

    def handle(self, *args, once: bool = False, **options) -> None:
        schedule = {
            entry["task"]: float(entry["schedule"])
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        due = dict.fromkeys(schedule, 0.0)
        while not stop.is_set():
            now = time.monotonic()
            for name, interval in schedule.items():
                if now >= due[name]:
                    self.run(name)
                    due[name] = now + interval
            if once:
                return
            stop.wait(max(0.5, min(due.values()) - time.monotonic()))

    def run(self, name: str) -> None:
        try:
            # Beat's task names are the tasks' import paths; apply() runs one here
            # and now, as a worker would.
            result = import_string(name).apply()
            if result.failed():
                log.error("periodic task %s failed: %s", name, result.result)
        except Exception:  # keep the schedule going; the next run retries
            log.exception("periodic task %s failed", name)
