"""Plumbing of the web pages: sign-in requirements, htmx targets, and the one
place that turns application errors into pages (docs/architecture.md)."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.errors import ApplicationError, InvalidInput, NotAllowed, TooManyAttempts
from core.permissions import is_provider
from core.sessions import push_the_end

View = Callable[..., HttpResponse]


def _back_after_sign_in(request: HttpRequest) -> str:
    """Where signing in again leads. A form sent after the session ended (a
    POST) cannot be replayed by a GET: back to the page the form was on (its
    Referer, when it is ours), where what was typed is restored (carelink.js)."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def login_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(_back_after_sign_in(request), settings.LOGIN_URL)
        return view(request, *args, **kwargs)

    return wrapped


def signed_in_page(view: View) -> View:
    """Sign-in required. Pages are for people; the API keeps its own auth."""
    return login_required(view)


@never_cache
@require_GET
@signed_in_page
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in": the session's end moves a full idle period from now
    (core.sessions), and the page is told for how long, to re-arm its warning."""
    push_the_end(request)
    return JsonResponse({"idle_logout_seconds": int(settings.SESSION_COOKIE_AGE)})


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
        if isinstance(exc, TooManyAttempts):
            response = render(
                request,
                "application_error.html",
                {"message": exc.message, "status": exc.status_code},
                status=exc.status_code,
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        return render(
            request,
            "application_error.html",
            {"message": exc.message, "status": exc.status_code},
            status=exc.status_code,
        )
