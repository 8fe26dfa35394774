"""What a FHIR read may carry, asked of the selectors every other face asks
(docs/fhir.md): the gate (`access.lookups`), the consent engine
(`consent.selectors`), the assessments (`measures.selectors`) and the
referrals (`referrals.selectors`). Nothing here decides who may see what.

Each read is a fixed number of queries, whatever the size of the record.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentDirective
from consent.selectors import (
    clients_by_name,
    directives_of,
    entry_visibility_q,
    visible_clients,
    visible_entries,
    withheld_count,
)
from core.paging import KeysFirst
from core.permissions import may_read_entries
from measures.models import Assessment
from measures.selectors import visible_assessments
from records.models import CareTeamMembership, Client, Entry, Provider, normalize_health_card
from records.selectors import active_care_team
from referrals.models import Referral
from referrals.selectors import client_referrals


@dataclass(frozen=True)
class PatientRecord:
    """Everything of one client the caller receives, and whether anything was withheld."""

    client: Client
    care_team: list[CareTeamMembership]
    assessments: list[Assessment]
    documents: list[Entry]
    directives: list[ConsentDirective]
    referrals: list[Referral]
    redacted: bool
    at: datetime


def patient_record(provider: Provider, client: Client) -> PatientRecord:
    """`client` must come from the gate (`access_client`). Entries come from
    the consent engine, assessments from their own selector over the same
    entries: an entry that is an assessment is an Observation, every other a
    DocumentReference. Redacted: whenever the client has an entry the caller
    does not receive — always, for the roles that read no entries."""
    # Rules 2–4 decided once, for the assessments, the documents and the label.
    visibility = entry_visibility_q(provider, client=client)
    assessments = list(visible_assessments(provider, client, visibility=visibility))
    assessment_entries = {assessment.entry_id for assessment in assessments}
    documents = [
        entry
        for entry in visible_entries(provider, client, visibility).order_by(
            "-occurred_at", "-created_at", "-id"
        )
        if entry.pk not in assessment_entries
    ]
    redacted = (
        not may_read_entries(provider)
        or withheld_count(provider, client, visibility=visibility) > 0
    )
    directives = directives_of(client).select_related(
        "grantee_organization", "recorded_by__organization"
    )
    referrals = client_referrals(provider, client).order_by("-created_at", "-id")
    return PatientRecord(
        client=client,
        care_team=list(active_care_team(client)),
        assessments=assessments,
        documents=documents,
        directives=list(directives),
        referrals=list(referrals),
        redacted=redacted,
        at=timezone.now(),
    )


@dataclass(frozen=True)
class PatientSearch:
    """A search's criteria, each already parsed; None = not asked. Several
    values of one criterion are alternatives (FHIR's comma)."""

    health_cards: list[str] | None = None
    families: list[str] | None = None
    born_from: date | None = None
    born_until: date | None = None  # inclusive


def search_patients(provider: Provider, search: PatientSearch) -> KeysFirst:
    """The caller's visible clients (rule 1) matching every criterion: nobody
    else is ever counted, matched or hinted at. A list for a paginator, in
    name order, read as the client search is (`consent.selectors.
    search_clients`, docs/performance.md "Province scale", changes 32–34):
    the page's keys first; the caller's clients first when no criterion has
    an index to narrow by (none, or the birth date alone)."""
    narrowed = search.health_cards is not None or search.families is not None
    clients = visible_clients(provider, one_by_one=not narrowed)
    if search.health_cards is not None:
        cards = [normalize_health_card(card) for card in search.health_cards]
        clients = clients.filter(health_card_normalized__in=[card for card in cards if card])
    if search.families is not None:
        # FHIR's string search: case-insensitive, from the start of the name.
        match = Q(pk__in=[])
        for family in search.families:
            match |= Q(family_name__istartswith=family)
        clients = clients.filter(match)
    if search.born_from is not None:
        clients = clients.filter(birth_date__gte=search.born_from)
    if search.born_until is not None:
        clients = clients.filter(birth_date__lte=search.born_until)
    return clients_by_name(
        provider, clients, Client.objects.all(), everyone=search == PatientSearch()
    )
