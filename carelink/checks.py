"""System checks that only a serving process runs (gunicorn's workers, ASGI).

Outside DEBUG the pages ask the manifest storage for hashed file names; before
`collectstatic` has run there is no manifest and every page would answer 500.
A process about to serve refuses to start instead, saying what to run. This
registry is separate from Django's: `manage.py check`, `migrate` and the test
suite run before `collectstatic` on a fresh clone and must not fail for it.
"""

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import Error
from django.core.checks.registry import CheckRegistry
from django.core.management.base import SystemCheckError

SERVING_CHECKS = CheckRegistry()


@SERVING_CHECKS.register
def static_files_collected(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return []
    if staticfiles_storage.read_manifest() is not None:
        return []
    return [
        Error(
            "The static files are not collected, so every page would fail.",
            hint=(
                "Run `python manage.py collectstatic --noinput` before starting the server "
                f"(STATIC_ROOT is {settings.STATIC_ROOT})."
            ),
            id="carelink.E001",
        )
    ]


def refuse_to_serve_on_errors() -> None:
    """Raise Django's SystemCheckError (a clear message, then exit) when a
    serving check fails."""
    errors = [message for message in SERVING_CHECKS.run_checks() if message.is_serious()]
    if errors:
        lines = "\n".join(f"{error.id}: {error.msg}\n\tHINT: {error.hint}" for error in errors)
        raise SystemCheckError(f"CareLink refuses to start:\n{lines}")
