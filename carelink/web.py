"""Shared plumbing of the provider web pages.

The pages are another face of the same services and the same consent engine as
the API: a page resolves its client through `visible_clients` (rule 1) before
anything else, audits its reads with `record_access`, and writes only through
the services. Nothing here decides access on its own.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse

from carelink.api import resolve_client
from records.models import Client, Provider

View = Callable[..., HttpResponse]


def client_or_404(provider: Provider, client_id: Any) -> Client:
    """Rule 1 for pages: a client off the caller's care teams is a 404 page,
    exactly like an unknown id (the same gate as the API's ClientScopedView)."""
    return resolve_client(provider, client_id)


def provider_view(view: View) -> View:
    """Sign-in required. Pages are for people; the API keeps its own auth.

    Client-scoped pages use this and let the gate answer: a system admin (no
    organization) sees no client, so their client pages are 404, as in the API.
    """
    return login_required(view)


def organization_view(view: View) -> View:
    """Sign-in required, and a provider of an organization: system admins have
    no organization and see no client (they use /admin/)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.organization_id is None:
            raise PermissionDenied("Only providers of an organization may use this page.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def require(condition: bool, message: str) -> None:
    """A role check after the client gate: visible, but not allowed → 403 page."""
    if not condition:
        raise PermissionDenied(message)


def add_model_errors(form: forms.Form, error: DjangoValidationError) -> None:
    """Show a service's validation error on the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def htmx_target_is(request: HttpRequest, element_id: str) -> bool:
    """Whether an htmx request swaps into #element_id (htmx 2 sends the id,
    htmx 4 `tag#id`)."""
    target = request.htmx.target if request.htmx else None
    return bool(target) and (target == element_id or target.endswith(f"#{element_id}"))
