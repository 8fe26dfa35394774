"""The consent app's routing event: emergency access granted ("break the glass")."""

from django.db.models import QuerySet

from consent.models import EmergencyAccess
from core import events
from core.events import EventKind
from core.models import Notification, OutboxEvent
from core.vocabulary import Role
from records.models import Provider
from records.selectors import care_team_at


def _privacy_officers_of_the_care_team(event: OutboxEvent) -> QuerySet[Provider]:
    team_organizations = care_team_at(event.client_id, event.created_at).values("organization_id")
    return Provider.objects.filter(
        is_active=True, organization_id__in=team_organizations, role=Role.PRIVACY_OFFICER
    )


def _emergency_preview(notification: Notification) -> str:
    detail = notification.event.detail
    who = detail.get("provider")
    if not who:
        return "Emergency access to the record was granted."
    return (
        f"Emergency access to the record was granted to {who} "
        f"({detail.get('organization') or 'no organization'})."
    )


EMERGENCY_ACCESS = events.register(
    EventKind(
        name="emergency_access",
        label="Emergency access",
        recipients=_privacy_officers_of_the_care_team,
        preview=_emergency_preview,
    )
)


def emergency_access_granted(grant: EmergencyAccess, *, actor: Provider) -> None:
    events.publish_event(
        EMERGENCY_ACCESS,
        client=grant.client,
        actor=actor,
        subject=grant,
        detail={"provider": actor.display_name, "organization": grant.organization.name},
    )
