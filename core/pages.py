"""Plumbing of the web pages: sign-in requirements, htmx targets, and the one
place that turns application errors into pages (docs/architecture.md)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import ApplicationError, InvalidInput, NotAllowed
from core.permissions import is_provider

View = Callable[..., HttpResponse]


def signed_in_page(view: View) -> View:
    """Sign-in required. Pages are for people; the API keeps its own auth."""
    return login_required(view)


def organization_page(view: View) -> View:
    """Sign-in required, and a provider of an organization: system admins have
    no organization and see no client (they use /admin/)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_provider(request.user):
            raise PermissionDenied("Only providers of an organization may use this page.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def require(condition: bool, message: str) -> None:
    """A role check after the client gate: visible, but not allowed → 403 page."""
    if not condition:
        raise NotAllowed(message)


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def add_errors(form: forms.Form, error: InvalidInput) -> None:
    """Show a service's input errors on the form, by field where it names one."""
    for field, messages in error.fields.items():
        form.add_error(field if field in form.fields else None, messages)


def check_form(form: forms.Form, check: Callable[..., object], **values: Any) -> None:
    """Run a domain rule (a service's `check_…` function) on a form's input, so
    its errors show by field beside the form's own: the rule is the service's,
    the form only reports it."""
    try:
        check(**values)
    except InvalidInput as error:
        for field, messages in error.fields.items():
            if field not in form.errors:
                form.add_error(field if field in form.fields else None, messages)


def htmx_target_is(request: HttpRequest, element_id: str) -> bool:
    """Whether an htmx request swaps into #element_id (htmx 2 sends the id,
    htmx 4 `tag#id`)."""
    target = request.htmx.target if request.htmx else None
    return bool(target) and (target == element_id or target.endswith(f"#{element_id}"))


class ApplicationErrorMiddleware:
    """An application error no view caught becomes its page: 403 the 403 page,
    400 and 409 a page with the reason. (Forms catch `InvalidInput` themselves
    to show it by field; the API has its own handler.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, ApplicationError) or request.path_info.startswith("/api/"):
            return None
        if isinstance(exc, NotAllowed):
            return render(request, "403.html", {"exception": exc.message}, status=403)
        return render(
            request,
            "application_error.html",
            {"message": exc.message, "status": exc.status_code},
            status=exc.status_code,
        )
