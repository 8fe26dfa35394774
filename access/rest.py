"""The gate in front of every client-scoped API view."""

from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.lookups import access_client, access_client_for_audit
from core.errors import NotAllowed
from core.permissions import is_provider, may_read_entries
from core.rest import paginate
from records.models import Client


class ClientScopedView(APIView):
    """Base for every endpoint under /clients/{client_id}/.

    `initial()` authenticates, then resolves the client through the consent gate
    before any handler runs, so a view cannot forget the check: an unknown id and
    a client off the care team both answer 404 (rule 1), before 403 and 400.
    """

    permission_classes = [IsAuthenticated]
    client: Client
    # Views that system admins may also use for any client (the access log).
    for_audit = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        lookup = access_client_for_audit if self.for_audit else access_client
        self.client = lookup(request.user, kwargs.get("client_id"))

    def paginate(
        self, queryset: Any, serializer_class: type, count: int | None = None, **extra: Any
    ) -> tuple[Response, list]:
        return paginate(self.request, self, queryset, serializer_class, count=count, **extra)


class EntryReadingView(ClientScopedView):
    """Base for every endpoint that reads (or writes) a client's entries — the
    record, assessments, anything built on entries: after the client gate (404),
    the roles that do not read the record get 403 (minimum necessary). The
    consent engine would show them nothing anyway; this says so plainly."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not may_read_entries(request.user):
            raise NotAllowed(
                "Organization admins and privacy officers do not read the record's entries."
            )


def require_organization(user: Any) -> None:
    """Writes under a client are for providers of organizations, never system admins."""
    if not is_provider(user):
        raise NotAllowed("Only providers of an organization may do this.")
