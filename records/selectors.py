"""Reads of the records app that need no consent decision: who is on a case.

Reads of record content go through the consent engine (`consent.selectors`),
which stands above this app."""

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from records.models import CareTeamMembership, Client


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
