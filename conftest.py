"""Loaded before Django's settings: tests need a secret key outside debug."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "carelink-test-suite-only")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
