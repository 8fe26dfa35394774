"""Reads of the client portal: what the client sees of their own record
(docs/portal.md).

Every read starts from `portal_client(account)`: the client is the account's
own, never one named in a request, so there is no id to guess. The client's
own reads are not access events (what is audited is who else looked).
"""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from capacity.selectors import organization_waits, service_waits
from consent.models import ConsentDirective
from consent.selectors import (
    access_log,
    access_log_pages,
    categories_shared_with,
    denies_covering,
    directives_of,
)
from core.errors import NotAllowed
from core.ids import parse_uuid
from core.paging import KeysFirst
from core.permissions import is_client_account
from portal.models import ExperienceAnswer, NoticeChoice
from records.models import CareTeamMembership, Client, Organization, Provider
from records.selectors import active_care_team
from referrals.models import WAITING_STATUSES, Referral, ReferralStatus
from referrals.selectors import wait_days

NOT_A_CLIENT = "The portal is for clients' own accounts."
NO_REFERRAL = "No referral found."
NO_DIRECTIVE = "No consent directive found."
# The survey opens once the client has an appointment (or the referral is done).
SURVEY_STATUSES = (ReferralStatus.SCHEDULED, ReferralStatus.COMPLETED)


def portal_client(account: Any) -> Client:
    """The account's own client; any other account is refused (403)."""
    if not is_client_account(account):
        raise NotAllowed(NOT_A_CLIENT)
    return Client.objects.get(pk=account.client_id)


def has_portal_account(client: Client) -> bool:
    """Whether the client has opened their account (what the client did there
    is theirs: providers see only this)."""
    return Provider.objects.filter(client=client).exists()


def portal_care_team(client: Client) -> QuerySet[CareTeamMembership]:
    """Who is on the case now, with their organizations."""
    return active_care_team(client)


def portal_access_log(client: Client) -> KeysFirst:
    """Every access event on the client's record, newest first, a page at a
    time: providers' reads and writes, and the client's own writes through the
    portal."""
    return access_log_pages(access_log(client))


def portal_consents(client: Client) -> QuerySet[ConsentDirective]:
    """The client's directives, revoked ones included, newest first: those they
    recorded themself and those recorded with a provider alike."""
    return directives_of(client).select_related("grantee_organization")


def _referrals(client: Client) -> QuerySet[Referral]:
    answered = ExperienceAnswer.objects.filter(referral=OuterRef("pk"))
    return (
        Referral.objects.filter(client=client)
        .select_related("to_organization", "service")
        .annotate(answered=Exists(answered))
        .order_by("-created_at", "-id")
    )


def expected_waits(referrals: list[Referral]) -> None:
    """Set `.expected_wait` on each referral: while it waits (sent or accepted),
    the published median and 90th percentile wait of its service — or of its
    organization when it names no service — each None while too few to
    publish; None once it stopped waiting. The figures are capacity's, for
    every referral of the list in at most four queries."""
    waiting = [r for r in referrals if r.status in WAITING_STATUSES]
    by_service = service_waits({r.service_id for r in waiting if r.service_id})
    by_organization = organization_waits(
        {r.to_organization_id for r in waiting if not r.service_id}
    )
    for referral in referrals:
        if referral.status not in WAITING_STATUSES:
            referral.expected_wait = None
            continue
        wait = (
            by_service[referral.service_id]
            if referral.service_id
            else by_organization[referral.to_organization_id]
        )
        referral.expected_wait = {
            "median_wait_days": wait.median_wait_days,
            "p90_wait_days": wait.p90_wait_days,
        }


def portal_referrals(client: Client) -> list[Referral]:
    """The client's referrals, newest first, each with `.expected_wait`,
    `.wait_days` and `.experience_given`."""
    referrals = list(_referrals(client))
    expected_waits(referrals)
    for referral in referrals:
        referral.experience_given = referral.answered
        referral.wait_days = wait_days(referral)
    return referrals


def surveys_due(client: Client) -> list[Referral]:
    """Referrals the client may now say how it went about: scheduled or
    completed, not answered yet; newest first."""
    referrals = list(_referrals(client).filter(status__in=SURVEY_STATUSES, answered=False))
    for referral in referrals:
        referral.experience_given = False
        referral.expected_wait = None
        referral.wait_days = wait_days(referral)
    return referrals


def portal_referral(client: Client, referral_id: Any) -> Referral:
    """One of the client's referrals by id; another client's, or no such id,
    is the same 404."""
    referral = (
        Referral.objects.filter(client=client, pk=parse_uuid(referral_id, NO_REFERRAL))
        .select_related("to_organization", "service")
        .first()
    )
    if referral is None:
        raise Http404(NO_REFERRAL)
    return referral


def portal_directive(client: Client, directive_id: Any) -> ConsentDirective:
    """One of the client's consent directives by id; anything else is the same 404."""
    directive = directives_of(client).filter(pk=parse_uuid(directive_id, NO_DIRECTIVE)).first()
    if directive is None:
        raise Http404(NO_DIRECTIVE)
    return directive


def email_notices(client: Client) -> bool:
    """Whether the client chose email notices (off until they do)."""
    return NoticeChoice.objects.filter(client=client, email_notices=True).exists()


# --- sharing choices, per organization ------------------------------------------------------


def care_team_organizations(client: Client) -> list[Organization]:
    """The organizations on the client's care team now, by name."""
    members = portal_care_team(client)
    found = {member.organization_id: member.organization for member in members}
    return sorted(found.values(), key=lambda organization: organization.name)


def shared_categories(client: Client, organizations: list[Organization]) -> dict[Any, set[str]]:
    """What each organization may see now of other organizations' notes, by
    the client's choices (the consent engine's rule 3)."""
    return categories_shared_with(client, organizations)


def sharing_after(
    client: Client,
    organizations: list[Organization],
    *,
    organization: Organization,
    category: str,
    share: bool,
) -> dict[Any, set[str]]:
    """What each organization would see once `change_sharing` made this
    change: the confirmation's "what will change", computed as the change
    itself will be made (taking back a choice that names a sector changes
    what every organization of that sector sees)."""
    if not share:
        after = categories_shared_with(client, organizations)
        for pk, categories in after.items():
            if pk == organization.pk:
                categories.discard(category)
        return after
    denies = list(denies_covering(client, organization, category))
    after = categories_shared_with(client, organizations, without=denies)
    after[organization.pk] = after.get(organization.pk, set()) | {category}
    return after
