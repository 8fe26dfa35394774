"""Reads of the referrals app: referrals, their history, the intake queue.

A referral (with its reason) exists only for the referring and the receiving
organizations; for everyone else it does not exist (404), care-team
colleagues included.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from consent.models import ConsentDirectiveCategory
from core.events import subject_label
from core.models import OutboxEvent
from core.permissions import is_provider
from records.models import Client, Provider
from referrals.models import URGENCY_RANK, Referral, ReferralStatus

# The side (or sides) of a referral the provider's organization is on, by
# the lists' `direction`: receiving ("incoming"), referring ("outgoing"), or
# either.
_SIDES = {
    "incoming": ("to_organization_id",),
    "outgoing": ("from_organization_id",),
    None: ("from_organization_id", "to_organization_id"),
}


def _between(provider: Provider, direction: str | None) -> QuerySet[Referral]:
    """The filter alone: referrals the provider's organization is a party to."""
    if not is_provider(provider):
        return Referral.objects.none()
    parties = Q()
    for side in _SIDES[direction]:
        parties |= Q(**{side: provider.organization_id})
    return Referral.objects.filter(parties)


def visible_referrals(provider: Provider, direction: str | None = None) -> QuerySet[Referral]:
    """Referrals from or to the provider's organization; `direction` "incoming"
    (to it) or "outgoing" (from it) narrows them in the same filter — rather
    than a second filter over the OR, which PostgreSQL misjudges (it expected
    320 of 2,877 waiting referrals and planned for the few)."""
    return (
        _between(provider, direction)
        .select_related(
            "client",
            "from_organization",
            "to_organization",
            "service",
            "referred_by",
            "consent_directive",
        )
        .prefetch_related("consent_directive__category_rows")
        # The referral that redirected a declined one, in the same query (a
        # lookup per declined referral of a page otherwise).
        .annotate(
            redirected_to_pk=Subquery(
                Referral.objects.filter(redirected_from=OuterRef("pk")).values("pk")[:1]
            )
        )
    )


def referral_count(
    provider: Provider,
    direction: str | None = None,
    status: str | None = None,
    service: Any = None,
) -> int:
    """How many referrals `visible_referrals(provider, direction)` holds (of
    `status`, and to `service`, if given), counted side by side.

    A referral never goes from an organization to itself (the database's
    check `referral_to_another_organization`), so the referring side and the
    receiving side are disjoint and their counts add up to the count of
    either. Each side is then an index-only count on its own index; the OR of
    both sides makes PostgreSQL visit the page of every row instead
    (docs/performance.md, "Province scale"). Two plain counts: Django builds
    and sends them in less time than one statement with both as subqueries."""
    if not is_provider(provider):
        return 0
    total = 0
    for side in _SIDES[direction]:
        rows = Referral.objects.filter(**{side: provider.organization_id})
        if status is not None:
            rows = rows.filter(status=status)
        if service is not None:
            rows = rows.filter(service=service)
        total += rows.count()
    return total


def client_referrals(provider: Provider, client: Client) -> QuerySet[Referral]:
    """The client's referrals that the provider's organization is a party to."""
    return visible_referrals(provider).filter(client=client)


def with_urgency_rank(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """`urgency_rank`: 0 emergent, 1 urgent, 2 routine — to put the most urgent first."""
    return referrals.annotate(urgency_rank=URGENCY_RANK)


def incoming_queue(provider: Provider) -> QuerySet[Referral]:
    """Referrals waiting for the provider's organization: emergent first, then
    urgent, then routine, the longest-waiting first within each — with what a
    row of the queue shows (the client, the referring organization), not the
    six tables of a referral's full row: the dashboard reads fifty of them on
    every visit (docs/performance.md, "Province scale")."""
    return with_urgency_rank(
        _between(provider, "incoming")
        .filter(status=ReferralStatus.SENT)
        .select_related("client", "from_organization")
    ).order_by("urgency_rank", "created_at", "id")


def wait_days(referral: Referral) -> int | None:
    """Whole days (elapsed time floored to 24 h) from sending to the appointment,
    or to completion when no appointment was set; None while neither exists."""
    return days_waited(referral.created_at, referral.appointment_at, referral.completed_at)


def days_waited(
    created_at: datetime, appointment_at: datetime | None, completed_at: datetime | None
) -> int | None:
    """`wait_days` from a referral's three times (a row of plain values has no referral)."""
    end = appointment_at or completed_at
    if end is None:
        return None
    return max(0, (end - created_at) // timedelta(days=1))


def shared_categories_of(directive_ids: Iterable[Any]) -> dict[Any, list[str]]:
    """What the client agreed to share at referral, for each of these consent
    directives (a page's), in one query: as `ConsentDirective.categories`
    lists them, in the order they were recorded."""
    shared: dict[Any, list[str]] = {}
    rows = ConsentDirectiveCategory.objects.filter(directive_id__in=set(directive_ids))
    for directive_id, category in rows.values_list("directive_id", "category"):
        shared.setdefault(directive_id, []).append(category)
    return shared


def referral_history(referral: Referral) -> QuerySet[OutboxEvent]:
    """The referral's routed events, oldest first, for its page."""
    return (
        OutboxEvent.objects.filter(subject_type=subject_label(referral), subject_id=referral.pk)
        .select_related("actor", "actor__organization")
        .order_by("created_at", "id")
    )
