"""Reads of the records app that need no consent decision: who is on a case.

Reads of record content go through the consent engine (`consent.selectors`),
which stands above this app."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from records.models import ACCESS_CLIENT_PERMISSION, CareTeamMembership, Client

# The care-team permission's id, once read (`access_client_permission_id`).
_permission_id: list[int] = []


def access_client_permission_id() -> int:
    """The id of the care-team permission (`records.access_client`), read once
    per process: `migrate` writes it and nothing changes it, so the gate, read
    on every request, compares it as a value instead of looking it up again in
    every statement (docs/performance.md, "Province scale"). A flush or a
    migrate may write the permissions anew, so the id is forgotten on every
    `post_migrate` (`RecordsConfig.ready`), as Django forgets its content
    types. Were it ever stale, the gate would match no care-team row: every
    client would be a 404 — closed, never open."""
    if not _permission_id:
        app_label, codename = ACCESS_CLIENT_PERMISSION.split(".")
        _permission_id.append(
            Permission.objects.only("pk")
            .get(codename=codename, content_type__app_label=app_label)
            .pk
        )
    return _permission_id[0]


def forget_access_client_permission_id(**_: Any) -> None:
    _permission_id.clear()


def active_care_team(client: Client) -> QuerySet[CareTeamMembership]:
    """Who is on the case now (ended memberships stay in history)."""
    return (
        CareTeamMembership.objects.filter(client=client, ended_at__isnull=True)
        .select_related("provider", "organization")
        .order_by("since", "id")
    )


def care_team_at(client_id: Any, at: datetime) -> QuerySet[CareTeamMembership]:
    """The care team as it was at a moment, read from the membership history: a
    provider who joined later does not hear of earlier events, however late the
    worker delivers them."""
    return CareTeamMembership.objects.filter(client_id=client_id, since__lte=at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at)
    )
