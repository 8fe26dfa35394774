"""The gate in front of every client-scoped page: the page twin of
`access.rest.ClientScopedView`."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

from access.lookups import access_client
from core.pages import signed_in_page

View = Callable[..., HttpResponse]


def client_page(view: View) -> View:
    """Sign-in required; the URL's `client_id` is resolved through the gate and
    handed to the view as `client`: a client off the caller's care teams is a
    404 page, exactly like an unknown id. A system admin (no organization) sees
    no client, so their client pages are 404, as in the API."""

    @wraps(view)
    def wrapped(request: HttpRequest, client_id: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, access_client(request.user, client_id), *args, **kwargs)

    return signed_in_page(wrapped)
