"""A per-address limit on failed attempts: after `limit` failures from one
address within `window`, every further attempt from it, right or wrong, waits
until the oldest of those failures leaves the window.

Reusable: the sign-in throttle (the token endpoint and the sign-in form share
one scope) is one instance; a portal's activation endpoint can be another.
Failures are rows of accounts.FailedAttempt, so the count is the same in every
worker process, on SQLite and PostgreSQL alike.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import FailedAttempt

UNKNOWN_ADDRESS = "unknown"


def client_address(request: HttpRequest) -> str:
    """The address django-axes locks out by (AXES_* settings decide proxies)."""
    return get_client_ip_address(request) or UNKNOWN_ADDRESS


@dataclass(frozen=True)
class AddressThrottle:
    scope: str
    limit: int
    window: timedelta

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try again; None while it may now."""
        if self.limit <= 0:
            return None
        now = timezone.now()
        # The limit-th most recent failure in the window: while it is there, the
        # address has `limit` failures; it may try again once that one leaves.
        nth = (
            FailedAttempt.objects.filter(
                scope=self.scope, address=address, at__gt=now - self.window
            )
            .order_by("-at")
            .values_list("at", flat=True)[self.limit - 1 : self.limit]
        )
        if not nth:
            return None
        return max(1, math.ceil((nth[0] + self.window - now).total_seconds()))

    def record_failure(self, address: str) -> None:
        now = timezone.now()
        # Failures that left the window count for nobody: forget them, any address's.
        FailedAttempt.objects.filter(scope=self.scope, at__lte=now - self.window).delete()
        FailedAttempt.objects.create(scope=self.scope, address=address, at=now)


def sign_in_throttle() -> AddressThrottle:
    """The token endpoint and the sign-in form, counted together."""
    return AddressThrottle(
        scope="sign-in",
        limit=settings.CARELINK_SIGN_IN_FAILURES_PER_ADDRESS,
        window=timedelta(minutes=settings.CARELINK_SIGN_IN_FAILURE_WINDOW_MINUTES),
    )


THROTTLED = "Too many failed sign-ins from this address."
