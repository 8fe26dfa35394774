"""The records app's routing events — an entry added to the shared record, a
provider joining a care team by matching at intake — and the recipients other
apps' events share: the care team at the event."""

from collections.abc import Collection

from django.db.models import QuerySet

from core import events
from core.events import WITHHELD, EventKind
from core.models import Notification, OutboxEvent
from core.vocabulary import Role
from records.models import CareTeamMembership, Entry, Provider
from records.selectors import care_team_at


def care_team_recipients(event: OutboxEvent) -> QuerySet[Provider]:
    """The active providers on the event's client's care team at the time of the event."""
    return Provider.objects.filter(
        is_active=True,
        pk__in=care_team_at(event.client_id, event.created_at).values("provider_id"),
    )


# The providers an event of the same write already tells of the entry (a
# safety alert), listed in the event's detail: nobody hears of one entry twice.
TOLD_ELSEWHERE = "told_elsewhere"


def _entry_added_recipients(event: OutboxEvent) -> QuerySet[Provider]:
    recipients = care_team_recipients(event)
    told_elsewhere = event.detail.get(TOLD_ELSEWHERE)
    if told_elsewhere:
        recipients = recipients.exclude(pk__in=told_elsewhere)
    return recipients


def _entry_preview(notification: Notification) -> str:
    title = getattr(notification, "visible_entry_title", None)
    return f"New entry: {title}" if title is not None else f"New entry — {WITHHELD}."


ENTRY_ADDED = events.register(
    EventKind(
        name="entry_added",
        label="Entry added",
        recipients=_entry_added_recipients,
        preview=_entry_preview,
    )
)


def entry_added(entry: Entry, *, actor: Provider, told_elsewhere: Collection[int] = ()) -> None:
    """Every other provider on the care team hears of a new entry; what they
    see of it is for consent to decide when they read. `told_elsewhere`: the
    providers another event of the same write tells instead (decided in that
    write's transaction); without it the event's detail is empty, as always."""
    detail = {TOLD_ELSEWHERE: sorted(told_elsewhere)} if told_elsewhere else None
    events.publish_event(ENTRY_ADDED, client=entry.client, actor=actor, entry=entry, detail=detail)


def _privacy_officers_of_the_other_organizations(event: OutboxEvent) -> QuerySet[Provider]:
    """Every privacy officer of the organizations on the care team when the
    provider joined, but the joining organization (it knows already)."""
    joining = event.detail["organization"]["id"]
    team = care_team_at(event.client_id, event.created_at).exclude(organization_id=joining)
    return Provider.objects.filter(
        is_active=True,
        role=Role.PRIVACY_OFFICER,
        organization_id__in=team.values("organization_id"),
    )


def _joined_preview(notification: Notification) -> str:
    detail = notification.event.detail
    return (
        f"{detail['provider']} of {detail['organization']['name']} joined the care team "
        "by matching at intake."
    )


CARE_TEAM_JOINED = events.register(
    EventKind(
        name="care_team_joined",
        label="Joined the care team by matching",
        recipients=_privacy_officers_of_the_other_organizations,
        preview=_joined_preview,
    )
)


def care_team_joined(membership: CareTeamMembership, *, actor: Provider) -> None:
    """Matching at intake added someone new to the case on the strength of three
    identifiers: the other organizations' privacy officers hear who and from
    where — never anything of the record."""
    events.publish_event(
        CARE_TEAM_JOINED,
        client=membership.client,
        actor=actor,
        subject=membership,
        detail={
            "provider": membership.provider.display_name,
            "organization": {
                "id": membership.organization_id,
                "name": membership.organization.name,
            },
        },
    )
