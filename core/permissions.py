"""Who may do what by role: every such rule once, for the API, the pages and the
services alike (docs/access-rules.md, "Roles").

Whether the caller may see a client, an entry or a referral at all is not here:
that is the consent engine (`consent.selectors`) and the access lookups
(`access.lookups`). These functions read only the account itself, so they
stand on the ground floor and every floor may ask them.
"""

from typing import Any

from django.db import models

from core.vocabulary import Role

# Who triages an organization's incoming referrals.
TRIAGE_ROLES = frozenset({Role.INTAKE_WORKER, Role.CARE_COORDINATOR})


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


def may_edit_policies(user: Any) -> bool:
    return is_system_admin(user) or (is_provider(user) and user.role == Role.PRIVACY_OFFICER)


def may_read_access_log(user: Any) -> bool:
    """Privacy officers (of a care-team organization: the caller resolved the
    client through the gate) and system admins (for any client)."""
    return is_system_admin(user) or (is_provider(user) and user.role == Role.PRIVACY_OFFICER)


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
