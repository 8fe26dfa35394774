"""The one application error, raised by services and mapped once per face:
`core.rest.exception_handler` for the API, `core.pages.ApplicationErrorMiddleware`
for the pages.

| error          | API | page                                    |
|----------------|-----|-----------------------------------------|
| `InvalidInput` | 400 | the form again, each message by its field |
| `NotAllowed`   | 403 | the 403 page                            |
| `Conflict`     | 409 | the page again with the reason          |
| `TooManyAttempts` | 429 + `Retry-After` | the page again with the reason |

Not found is not here: a thing the caller may not see does not exist for them,
and the access lookups raise Django's `Http404`, which both faces already
answer alike (docs/access-rules.md).
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction


class ApplicationError(Exception):
    status_code = 400
    default_message = "This request cannot be carried out."

    def __init__(self, message: str = "") -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    """Input that breaks a domain rule, by field: `{"field": ["message", ...]}`."""

    status_code = 400
    default_message = "Invalid input."

    def __init__(self, fields: Mapping[str, Sequence[str] | str]) -> None:
        self.fields = {
            name: [messages] if isinstance(messages, str) else list(messages)
            for name, messages in fields.items()
        }
        first = next(iter(self.fields.values()), [self.default_message])
        super().__init__(first[0] if first else self.default_message)


class NotAllowed(ApplicationError):
    """Visible, but the caller's role, side or organization may not do this."""

    status_code = 403
    default_message = "You may not do this."


class Conflict(ApplicationError):
    """Not allowed in the current state (accepting a declined referral, revoking twice)."""

    status_code = 409
    default_message = "This change is not allowed in the current state."


class TooManyAttempts(ApplicationError):
    """Too many failed attempts from one address (a guessing limit): 429 with
    `Retry-After`, whole seconds."""

    status_code = 429
    default_message = "Too many failed attempts from this address. Try again later."

    def __init__(self, retry_after: int, message: str = "") -> None:
        self.retry_after = retry_after
        super().__init__(message)


class InputErrors:
    """Collects field errors so a write reports every bad field at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def check(self, field: str, condition: bool, message: str) -> None:
        if not condition:
            self.add(field, message)

    def check_rule(self, rule: Any, **values: Any) -> None:
        """Run a domain rule that raises `InvalidInput` (a service's `check_…`
        function) and keep its errors with the others."""
        try:
            rule(**values)
        except InvalidInput as error:
            for field, messages in error.fields.items():
                for message in messages:
                    self.add(field, message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidInput(self.fields)


def require_text(field: str, value: object, limit: int) -> str:
    """Text that is not blank once stripped and fits its limit."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput({field: "This field may not be blank."})
    if len(text) > limit:
        raise InvalidInput({field: f"Ensure this field has no more than {limit} characters."})
    return text


@contextmanager
def conflict_on_duplicate(message: str) -> Iterator[None]:
    """A unique constraint lost to a concurrent write is a 409, not a 500.

    Only around the one insert whose constraint is meant: any other integrity
    error stays an error (it would be a bug, not a race)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise Conflict(message) from error
