"""Reads of the records app. Every read of record content goes through the
consent engine (consent.selectors): these only shape what it returns."""

from django.db.models import Q, QuerySet

from consent.selectors import visible_clients, visible_entries
from records.models import CareTeamMembership, Client, Entry, Provider, normalize_health_card


def search_clients(provider: Provider, text: str) -> QuerySet[Client]:
    """The provider's visible clients matching every word of `text` by name or
    health card number (with or without dashes and spaces)."""
    clients = visible_clients(provider)
    for term in text.split():
        match = Q(given_name__icontains=term) | Q(family_name__icontains=term)
        card = normalize_health_card(term)
        if card:
            match |= Q(health_card_normalized__contains=card)
        clients = clients.filter(match)
    return clients.order_by("family_name", "given_name", "id")


def active_care_team(client: Client) -> QuerySet[CareTeamMembership]:
    """Who is on the case now (ended memberships stay in history)."""
    return (
        CareTeamMembership.objects.filter(client=client, ended_at__isnull=True)
        .select_related("provider", "organization")
        .order_by("since", "id")
    )


def entries_for(provider: Provider, client: Client) -> QuerySet[Entry]:
    """`visible_entries`, ready to serialize (author and organization joined)."""
    return visible_entries(provider, client).select_related("author", "organization")
