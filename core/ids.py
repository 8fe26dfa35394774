"""Ids from URLs and bodies. An id that cannot name a row names nothing: the
caller answers 404, exactly as for an unknown id."""

import uuid
from typing import Any

from django.http import Http404

_MAX_BIGINT = 2**63 - 1


def parse_uuid(value: Any, not_found: str = "Not found.") -> uuid.UUID:
    """A UUID id; anything else is a 404 with `not_found` as its detail."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise Http404(not_found) from None


def parse_int_id(value: Any, not_found: str = "Not found.") -> int:
    """An integer id (organizations, providers, policies) in ASCII digits that fits
    the database; anything else names nothing: 404. (int() alone accepts "１" and
    numbers too large for the database, which would be a 500.)"""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or int(text) > _MAX_BIGINT:
        raise Http404(not_found)
    return int(text)
