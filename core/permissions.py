"""Who may do what by role: every such rule once, for the API, the pages and the
services alike (docs/access-rules.md, "Roles").

Whether the caller may see a client, an entry or a referral at all is not here:
that is the consent engine (`consent.selectors`) and the access lookups
(`access.lookups`). These functions read only the account itself, so they
stand on the ground floor and every floor may ask them.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from core.vocabulary import Role

# Who triages an organization's incoming referrals.
TRIAGE_ROLES = frozenset({Role.INTAKE_WORKER, Role.CARE_COORDINATOR})

# Minimum necessary: the roles that run organizations and watch over privacy.
# They do not treat, so they read no entry on any path, break no glass, and no
# path puts them on a care team (docs/access-rules.md, "Roles that do not read
# the record"). The consent engine applies this to every query it answers.
NON_READING_ROLES = frozenset({Role.ORG_ADMIN, Role.PRIVACY_OFFICER})
# The others: the roles that treat, as a list a query can filter on.
TREATING_ROLES = frozenset(Role) - NON_READING_ROLES


class Side(models.TextChoices):
    """The two parties to a referral."""

    REFERRING = "referring", "referring"
    RECEIVING = "receiving", "receiving"


def is_client_account(user: Any) -> bool:
    """A client's own sign-in (the portal): never a provider, anywhere."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "client_id", None))


def is_provider(user: Any) -> bool:
    """A provider of an organization: the only accounts that see client records."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "organization_id", None) is not None
        and not is_client_account(user)
    )


def is_system_admin(user: Any) -> bool:
    """A superuser: manages organizations and accounts, sees no client's record."""
    return bool(getattr(user, "is_authenticated", False) and user.is_superuser)


def treats_clients(user: Any) -> bool:
    """A provider whose role treats: reads the record as consent allows, may be
    on a care team (and so create, match and accept clients), may break the
    glass. Organization admins and privacy officers do not."""
    return is_provider(user) and user.role not in NON_READING_ROLES


def may_read_entries(user: Any) -> bool:
    """Every face that reads entries asks this first (403 otherwise); the
    consent engine asks it too, so what forgets to ask still shows nothing."""
    return treats_clients(user)


def may_join_care_teams(user: Any) -> bool:
    """Added by a colleague, matched at intake, registering a client, accepting a
    referral: each puts the provider on a care team."""
    return treats_clients(user)


def may_break_the_glass(user: Any) -> bool:
    return treats_clients(user)


def entry_readers_q() -> Q:
    """`may_read_entries` as a filter on accounts, for set-based reads (who of a
    care team may see an entry)."""
    return Q(organization__isnull=False, client__isnull=True, role__in=TREATING_ROLES)


def may_edit_policies(user: Any) -> bool:
    return is_system_admin(user) or (is_provider(user) and user.role == Role.PRIVACY_OFFICER)


def may_read_access_log(user: Any) -> bool:
    """Privacy officers (of a care-team organization: the caller resolved the
    client through the gate) and system admins (for any client)."""
    return is_system_admin(user) or (is_provider(user) and user.role == Role.PRIVACY_OFFICER)


def may_review_emergency_access(user: Any) -> bool:
    """The privacy officer's desk: emergency accesses on their organization's clients."""
    return is_provider(user) and user.role == Role.PRIVACY_OFFICER


def may_add_providers(user: Any, organization_id: object = None) -> bool:
    """System admins to any organization; organization admins to their own.
    Without `organization_id`: to some organization. The id may be raw input
    (a request body's value), compared as text."""
    if is_system_admin(user):
        return True
    if not (is_provider(user) and user.role == Role.ORG_ADMIN):
        return False
    return organization_id is None or str(organization_id) == str(user.organization_id)


def may_create_organizations(user: Any) -> bool:
    return is_system_admin(user)


def sees_the_most(user: Any) -> bool:
    """Privacy officers (every access log), organization admins (accounts) and
    system admins: the roles whose sign-in needs a second factor."""
    return is_system_admin(user) or (
        is_provider(user) and user.role in (Role.PRIVACY_OFFICER, Role.ORG_ADMIN)
    )


def triages_referrals(user: Any) -> bool:
    return is_provider(user) and user.role in TRIAGE_ROLES


def referral_side(user: Any, from_organization_id: int, to_organization_id: int) -> Side | None:
    """Which party to a referral the user's organization is, if any."""
    if not is_provider(user):
        return None
    if user.organization_id == to_organization_id:
        return Side.RECEIVING
    if user.organization_id == from_organization_id:
        return Side.REFERRING
    return None


def may_manage_services(user: Any, organization_id: object = None) -> bool:
    """Create, edit and close an organization's services: its organization
    admins, and system admins for any organization. Without `organization_id`:
    some organization's."""
    if is_system_admin(user):
        return True
    if not (is_provider(user) and user.role == Role.ORG_ADMIN):
        return False
    return organization_id is None or str(organization_id) == str(user.organization_id)


def may_open_and_close_intake(user: Any, organization_id: object) -> bool:
    """Open or close a service to referrals: whoever manages its services, and
    its organization's intake workers (who see the queue fill)."""
    return may_manage_services(user, organization_id) or (
        is_provider(user)
        and user.role == Role.INTAKE_WORKER
        and str(organization_id) == str(user.organization_id)
    )


def may_issue_portal_invite(user: Any) -> bool:
    """Handing a client the code that opens their portal account: the roles
    that treat (the client is in front of them) and privacy officers (to whom
    a client turns to learn who looked at their record). Not organization
    admins: they run staff accounts, not clients' (docs/access-rules.md,
    "The client portal")."""
    return treats_clients(user) or (is_provider(user) and user.role == Role.PRIVACY_OFFICER)


# --- the wall between the portal and everything else ---------------------------------------
# A client's account uses the portal and nothing else; every other account uses
# everything but the portal (docs/access-rules.md, "The client portal"). Decided
# here, by path, for every face at once: `WallMiddleware` for whatever a session
# signs in (pages, the admin, the API and FHIR through a browser), and the API's
# token authentication (accounts.auth) and default permission class
# (BehindTheWall) for tokens. A new path is on the providers' side
# unless it is listed below.


class WallSide(models.TextChoices):
    PROVIDERS = "providers", "providers' side"
    PORTAL = "portal", "the client portal"
    BOTH = "both", "either kind of account"


# Paths any account may use: signing in and out, the schema, the capability
# statement, static files, the keep-alive of the pages' idle logout, the
# portal's activation (no sign-in at all) and the email notices' opt-out link.
PATHS_FOR_BOTH = (
    "/accounts/",
    "/api/v1/auth/",
    "/api/v1/portal/activate/",
    "/api/schema/",
    "/api/docs/",
    "/fhir/R4/metadata",
    "/static/",
    "/session/keepalive/",
    "/portal/notices/stop/",
)
PORTAL_PATHS = ("/api/v1/portal/", "/portal/")

CLIENTS_STAY_IN_THE_PORTAL = "Your account opens the client portal only."
PORTAL_IS_FOR_CLIENTS = "The portal is for clients' own accounts."


def wall_side(path: str) -> WallSide:
    if path.startswith(PATHS_FOR_BOTH):
        return WallSide.BOTH
    if path.startswith(PORTAL_PATHS):
        return WallSide.PORTAL
    return WallSide.PROVIDERS


def wall_refusal(user: Any, path: str) -> str | None:
    """Why this signed-in account may not use this path (a 403), or None. Not
    signed in is not for the wall to answer (401, or the sign-in page)."""
    if not getattr(user, "is_authenticated", False):
        return None
    side = wall_side(path)
    if side == WallSide.BOTH:
        return None
    client = is_client_account(user)
    if client and side == WallSide.PROVIDERS:
        return CLIENTS_STAY_IN_THE_PORTAL
    if not client and side == WallSide.PORTAL:
        return PORTAL_IS_FOR_CLIENTS
    return None


class WallMiddleware:
    """The wall for every request a session signs in, before any view runs —
    so before the client gate's 404, as the contract orders it. A refusal is
    Django's 403 (JSON under /api/ and /fhir/, the 403 page elsewhere)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        refusal = wall_refusal(getattr(request, "user", None), request.path_info)
        if refusal is not None:
            raise PermissionDenied(refusal)
        return None


class BehindTheWall(BasePermission):
    """The wall among the API's default permissions: what a view with the
    defaults signs in by any authentication is held to it too."""

    def has_permission(self, request: Any, view: Any) -> bool:
        refusal = wall_refusal(request.user, request._request.path_info)
        if refusal is not None:
            raise exceptions.PermissionDenied(refusal)
        return True
