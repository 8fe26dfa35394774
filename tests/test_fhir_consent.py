"""FHIR is one more path of rule 6: `$everything` carries exactly what the REST
API shows the same caller, validates with the R4B models, and carries nothing
of what is withheld — on generated records.

Hypothesis builds a client's record in the real database through the
services: entries of every kind and category by three organizations, some
amended or retracted; assessments of both instruments, some retracted;
directives of every shape (permit or deny; an organization or a sector,
present or not; any categories; open, not yet valid, expired or bounded;
revoked or not); referrals in every status, with or without a service. Then,
for a treating provider of each organization, a privacy officer, an
organization admin and a provider of an organization off the case, it reads
`$everything` through the API and compares it with the REST API's entries,
assessments, consents and referrals for the same caller.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from consent.services import record_consent, revoke_consent
from core.vocabulary import Category, EntryKind, Sector
from measures.instruments import INSTRUMENTS
from measures.services import record_assessment
from records import services as record_services
from records.models import Service
from referrals.models import WAITING_STATUSES, Referral, ReferralStatus, Urgency
from tests.fhir_support import carries, is_redacted, resources_of, validate
from tests.test_consent_engine_property import Rollback

ORG_SECTORS = ["primary_care", "mental_health", "employment"]
OFF_CASE_SECTOR = "hospital"
WINDOWS = ["open", "future", "expired", "bounded"]
FATES = ["kept", "amended", "retracted"]

# Titles must be text a provider could type (require_text strips them); bodies anything.
title_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(str.strip)
body_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200).map(
    lambda text: text.replace("\x00", "")
)


@dataclass(frozen=True)
class EntrySpec:
    org: int
    kind: str
    category: str
    fate: str
    title: str
    body: str
    data: dict


@dataclass(frozen=True)
class AssessmentSpec:
    org: int
    instrument: str
    answers: tuple[int, ...]
    retracted: bool


@dataclass(frozen=True)
class DirectiveSpec:
    effect: str
    grantee_org: int | None  # 0–2 on the case, 3 off it
    grantee_sector: str | None
    categories: tuple[str, ...]
    window: str
    revoked: bool


@dataclass(frozen=True)
class ReferralSpec:
    from_org: int
    to_org: int
    status: str
    urgency: str
    with_service: bool


entries = st.builds(
    EntrySpec,
    org=st.integers(0, 2),
    kind=st.sampled_from(EntryKind.values),
    category=st.sampled_from(Category.values),
    fate=st.sampled_from(FATES),
    title=title_text,
    body=body_text,
    data=st.one_of(
        st.just({}),
        # Keys as the API accepts them: no NUL and no surrogate (PostgreSQL's
        # JSON refuses both, and the API answers 400 before the service sees it).
        st.dictionaries(
            st.text(
                st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                min_size=1,
                max_size=8,
            ),
            st.integers(),
            max_size=3,
        ),
    ),
)


@st.composite
def assessments(draw) -> AssessmentSpec:
    instrument = draw(st.sampled_from(sorted(INSTRUMENTS)))
    count = len(INSTRUMENTS[instrument].items)
    answers = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    return AssessmentSpec(draw(st.integers(0, 2)), instrument, tuple(answers), draw(st.booleans()))


@st.composite
def directives(draw) -> DirectiveSpec:
    by_org = draw(st.booleans())
    return DirectiveSpec(
        effect=draw(st.sampled_from(["permit", "deny"])),
        grantee_org=draw(st.integers(0, 3)) if by_org else None,
        grantee_sector=None if by_org else draw(st.sampled_from(Sector.values)),
        categories=tuple(
            draw(st.lists(st.sampled_from(Category.values), min_size=1, max_size=8, unique=True))
        ),
        window=draw(st.sampled_from(WINDOWS)),
        revoked=draw(st.booleans()),
    )


@st.composite
def referrals(draw) -> ReferralSpec:
    from_org = draw(st.integers(0, 3))
    to_org = draw(st.integers(0, 3).filter(lambda org: org != from_org))
    return ReferralSpec(
        from_org,
        to_org,
        draw(st.sampled_from(ReferralStatus.values)),
        draw(st.sampled_from(Urgency.values)),
        draw(st.booleans()),
    )


@dataclass(frozen=True)
class Record:
    entries: list[EntrySpec]
    assessments: list[AssessmentSpec]
    directives: list[DirectiveSpec]
    referrals: list[ReferralSpec]


records = st.builds(
    Record,
    entries=st.lists(entries, max_size=8),
    assessments=st.lists(assessments(), max_size=3),
    directives=st.lists(directives(), max_size=5),
    referrals=st.lists(referrals(), max_size=3),
)


def build(spec: Record):
    now = timezone.now()
    organizations = [
        record_services.create_organization(name=f"Org {i}", sector=sector)
        for i, sector in enumerate([*ORG_SECTORS, OFF_CASE_SECTOR])
    ]

    def provider(org: int, role: str = "clinician"):
        return record_services.create_provider(
            username=f"{role}{org}",
            password=None,
            full_name=f"{role.title()} of org {org}",
            organization=organizations[org],
            role=role,
        )

    treating = [provider(org) for org in range(4)]
    client = record_services.register_client(
        provider=treating[0],
        given_name="Property",
        family_name="Client",
        birth_date=now.date() - timedelta(days=365 * 30),
        health_card_number="1234567890",
    ).client
    record_services.add_to_care_team(client, treating[1])
    record_services.add_to_care_team(client, treating[2])
    viewers = {
        "treating": treating,
        "privacy_officer": provider(1, "privacy_officer"),
        "org_admin": provider(2, "org_admin"),
    }
    # Every version of every entry, with the marker its title and body carry.
    written = []
    for spec_entry in spec.entries:
        marker = uuid.uuid4().hex
        entry = record_services.create_entry(
            client=client,
            author=treating[spec_entry.org],
            category=spec_entry.category,
            kind=spec_entry.kind,
            title=f"{spec_entry.title} {marker}",
            body=f"{spec_entry.body} {marker}",
            data=spec_entry.data,
        )
        written.append((entry.pk, marker, None))
        if spec_entry.fate == "amended":
            newer_marker = uuid.uuid4().hex
            newer = record_services.amend_entry(
                provider=treating[spec_entry.org],
                entry=entry,
                title=f"Amended {newer_marker}",
                body=f"Amended body {newer_marker}",
                reason="Corrected.",
            )
            written.append((newer.pk, newer_marker, entry.pk))
        elif spec_entry.fate == "retracted":
            record_services.retract_entry(
                provider=treating[spec_entry.org], entry=entry, reason="Wrong record."
            )
    assessment_ids = []
    for spec_assessment in spec.assessments:
        assessment = record_assessment(
            provider=treating[spec_assessment.org],
            client=client,
            instrument=spec_assessment.instrument,
            answers=list(spec_assessment.answers),
        )
        assessment_ids.append(assessment.pk)
        if spec_assessment.retracted:
            record_services.retract_entry(
                provider=treating[spec_assessment.org], entry=assessment.entry, reason="Wrong."
            )
    windows = {
        "open": (now - timedelta(days=1), None),
        "future": (now + timedelta(days=2), None),
        "expired": (now - timedelta(days=10), now - timedelta(days=1)),
        "bounded": (now - timedelta(days=1), now + timedelta(days=1)),
    }
    for spec_directive in spec.directives:
        valid_from, expires_at = windows[spec_directive.window]
        directive = record_consent(
            provider=treating[0],
            client=client,
            effect=spec_directive.effect,
            categories=list(spec_directive.categories),
            grantee_organization=(
                organizations[spec_directive.grantee_org]
                if spec_directive.grantee_org is not None
                else None
            ),
            grantee_sector=spec_directive.grantee_sector or "",
            valid_from=valid_from,
            expires_at=expires_at,
        )
        if spec_directive.revoked:
            revoke_consent(provider=treating[0], directive=directive)
    for spec_referral in spec.referrals:
        to_organization = organizations[spec_referral.to_org]
        service = (
            Service.objects.get_or_create(organization=to_organization, name="Counselling")[0]
            if spec_referral.with_service
            else None
        )
        waiting = spec_referral.status in WAITING_STATUSES
        Referral.objects.create(
            client=client,
            from_organization=organizations[spec_referral.from_org],
            to_organization=to_organization,
            service=service,
            referred_by=treating[spec_referral.from_org],
            reason=f"Reason {uuid.uuid4().hex}",
            urgency=spec_referral.urgency,
            status=spec_referral.status,
            created_at=now - timedelta(days=5),
            appointment_at=now + timedelta(days=3)
            if spec_referral.status == ReferralStatus.SCHEDULED
            else None,
            stopped_waiting_at=None if waiting else now,
        )
    return client, viewers, written, assessment_ids


def rest_ids(api: APIClient, path: str, client_id=None) -> set[str] | None:
    """Every id a REST list shows (all pages); None when the list is refused (403)."""
    found: set[str] = set()
    url = f"{path}?page_size=100"
    while url:
        response = api.get(url)
        if response.status_code == 403:
            return None
        assert response.status_code == 200, response.content
        page = response.json()
        for row in page["results"]:
            if client_id is None or row["client"]["id"] == str(client_id):
                found.add(row["id"])
        url = page["next"]
    return found


def entry_ids_of(bundle: dict) -> set[str]:
    documents = {d["id"] for d in resources_of(bundle, "DocumentReference")}
    observed = {
        o["identifier"][0]["value"].removeprefix("urn:uuid:")
        for o in resources_of(bundle, "Observation")
    }
    assert documents.isdisjoint(observed)
    return documents | observed


def check_viewer(api: APIClient, client, written, assessment_ids) -> None:
    base = f"/api/v1/clients/{client.pk}"
    response = api.get(f"/fhir/R4/Patient/{client.pk}/$everything")
    assert response.status_code == 200, response.content
    bundle = response.json()
    validate(bundle)

    entries = rest_ids(api, f"{base}/entries/")
    assessments = rest_ids(api, f"{base}/assessments/")
    reader = entries is not None
    assert entry_ids_of(bundle) == (entries or set())
    assert {o["id"] for o in resources_of(bundle, "Observation")} == (assessments or set())
    assert {c["id"] for c in resources_of(bundle, "Consent")} == rest_ids(api, f"{base}/consents/")
    assert {s["id"] for s in resources_of(bundle, "ServiceRequest")} == rest_ids(
        api, "/api/v1/referrals/", client.pk
    )
    withheld = api.get(f"{base}/entries/").json()["withheld_count"] if reader else None
    assert is_redacted(bundle) == (not reader or withheld > 0)

    # What the caller does not receive is in no field, in no attachment. The id
    # of an amended original is named by its newer version, as in the REST API
    # (`amends`); nothing else of it is.
    received = entries or set()
    named = {str(original) for newer, _, original in written if str(newer) in received}
    for entry_id, marker, _ in written:
        if str(entry_id) in named:
            assert not carries(bundle, marker), entry_id
        elif str(entry_id) not in received:
            assert not carries(bundle, marker), entry_id
            assert not carries(bundle, str(entry_id)), entry_id
    for assessment_id in assessment_ids:
        if str(assessment_id) not in (assessments or set()):
            assert not carries(bundle, str(assessment_id))


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=records)
def test_everything_is_what_the_rest_api_shows_and_validates(spec: Record):
    try:
        with transaction.atomic():
            client, viewers, written, assessment_ids = build(spec)
            callers = [*viewers["treating"][:3], viewers["privacy_officer"], viewers["org_admin"]]
            for caller in callers:
                api = APIClient()
                api.force_authenticate(caller)
                check_viewer(api, client, written, assessment_ids)
            # Off the case: the client does not exist for them.
            api = APIClient()
            api.force_authenticate(viewers["treating"][3])
            assert api.get(f"/fhir/R4/Patient/{client.pk}/$everything").status_code == 404
            raise Rollback
    except Rollback:
        pass
