"""Settings of the test suite: the deployment's settings, plus what only tests need."""

import os
import tempfile
from pathlib import Path

from carelink.settings import *  # noqa: F403
from carelink.settings import DATABASES, REDIS_URL, REST_FRAMEWORK

if REDIS_URL and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A real worker is another process and cannot see an in-memory SQLite test
    # database, so with a broker the test database is a file (one per test run).
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(Path(tempfile.gettempdir()) / f"carelink-test-{os.getpid()}.sqlite3")
    )

# The API reads JSON only (a form body is a 415): test requests are JSON unless
# a test says otherwise.
REST_FRAMEWORK = {**REST_FRAMEWORK, "TEST_REQUEST_DEFAULT_FORMAT": "json"}
