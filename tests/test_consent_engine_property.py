"""The consent engine against a plain reference implementation of the rules of docs/access-rules.md.

Hypothesis builds random worlds — organizations of a few sectors, some on the
client's care team; directives that permit or deny an organization or a sector,
open-ended, not yet valid, expired, bounded or revoked; emergency accesses,
active or expired, held by one provider of an organization; providers of every
role, the organization admins and privacy officers among them (who never read
entries, not even their own organization's, whatever emergency access row
exists); entries of random categories authored by random organizations, some
amended (a new version) or retracted (a tombstone) — in
the real database through the services, and compares `visible_clients`, `visible_entries`,
`visible_entries_anywhere`, `withheld_count`, `entries_and_counts` and — from the entry's side —
`providers_who_may_see` with the rules written out below in plain Python.
`providers_who_may_see` decides who receives a safety alert, a path that can
carry record content, so this test is its proof that it cannot leak.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from access.lookups import access_client
from consent.models import EmergencyAccess
from consent.selectors import (
    entries_and_counts,
    providers_who_may_see,
    visible_clients,
    visible_entries,
    visible_entries_anywhere,
    visible_entry_versions,
    withheld_count,
)
from consent.services import grant_emergency_access, record_consent, revoke_consent
from records import services as record_services
from records.models import Client, Provider

# Few sectors and categories, so that directives, grantees and entries collide often
# (a permit and a deny covering the same entry, a sector grant over an org grant).
SECTORS = ["primary_care", "mental_health"]
CATEGORIES = ["mental_health", "substance_use"]
PROVIDERS_PER_ORG = 2
ROLES = ["clinician", "intake_worker", "care_coordinator", "org_admin", "privacy_officer"]
# Roles that run organizations and watch over privacy: they do not read the record.
NON_READING_ROLES = {"org_admin", "privacy_officer"}

# --- the world, as plain data ------------------------------------------------------------------


@dataclass(frozen=True)
class Directive:
    effect: str
    grantee_org: int | None
    grantee_sector: str | None
    categories: frozenset[str]
    window: str  # open | future | expired | bounded
    revoked: bool


@dataclass(frozen=True)
class Emergency:
    org: int
    provider: int
    active: bool


@dataclass(frozen=True)
class World:
    sectors: list[str]
    on_team: list[bool]
    directives: list[Directive]
    emergencies: list[Emergency]
    entries: list[tuple[int, str]]  # (authoring organization, category)
    # The role of each organization's second provider (the first, who joins the
    # care team and authors the entries, is a clinician).
    roles: tuple[str, ...] = ()
    # Entries amended by their organization (a new version supersedes the
    # original) and entries retracted (a tombstone stays), by index.
    amended: frozenset[int] = frozenset()
    retracted: frozenset[int] = frozenset()

    def role(self, org: int, provider: int) -> str:
        return self.roles[org] if provider == 1 and self.roles else "clinician"


def windows(now: datetime) -> dict[str, tuple[datetime, datetime | None]]:
    """Far from now on purpose: nothing crosses a boundary while the test runs."""
    day = timedelta(days=1)
    return {
        "open": (now - day, None),
        "future": (now + day, None),
        "expired": (now - 10 * day, now - day),
        "bounded": (now - day, now + day),
    }


@st.composite
def worlds(draw) -> World:
    n_orgs = draw(st.integers(min_value=2, max_value=3))
    sectors = draw(st.lists(st.sampled_from(SECTORS), min_size=n_orgs, max_size=n_orgs))
    # Organization 0 registers the client, so it is always on the care team.
    on_team = [True] + draw(st.lists(st.booleans(), min_size=n_orgs - 1, max_size=n_orgs - 1))
    org = st.integers(min_value=0, max_value=n_orgs - 1)

    @st.composite
    def directive(draw_) -> Directive:
        by_org = draw_(st.booleans())
        return Directive(
            effect=draw_(st.sampled_from(["permit", "deny"])),
            grantee_org=draw_(org) if by_org else None,
            grantee_sector=None if by_org else draw_(st.sampled_from(SECTORS)),
            categories=frozenset(
                draw_(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2))
            ),
            # Weighted towards active directives, so that permits and denies meet often.
            window=draw_(st.sampled_from(["open", "open", "bounded", "future", "expired"])),
            revoked=draw_(st.sampled_from([False, False, False, True])),
        )

    emergency = st.builds(
        Emergency,
        org=org,
        provider=st.integers(min_value=0, max_value=PROVIDERS_PER_ORG - 1),
        active=st.booleans(),
    )
    return World(
        sectors=sectors,
        on_team=on_team,
        directives=draw(st.lists(directive(), min_size=2, max_size=8)),
        emergencies=draw(st.lists(emergency, max_size=2)),
        entries=draw(
            st.lists(st.tuples(org, st.sampled_from(CATEGORIES)), min_size=3, max_size=10)
        ),
        roles=tuple(draw(st.lists(st.sampled_from(ROLES), min_size=n_orgs, max_size=n_orgs))),
        amended=frozenset(draw(st.sets(st.integers(min_value=0, max_value=2)))),
        retracted=frozenset(draw(st.sets(st.integers(min_value=0, max_value=2)))),
    )


# --- the reference: rules 1–5 of docs/access-rules.md, in plain Python ---------------------


def reference_client_visible(world: World, viewer_org: int) -> bool:
    """Rule 1: P sees C while P's organization is a care-team organization of C."""
    return world.on_team[viewer_org]


def reference_active(directive: Directive, now: datetime) -> bool:
    """Active = recorded, not revoked, valid_from ≤ now < expires_at (none = open-ended)."""
    valid_from, expires_at = windows(now)[directive.window]
    return not directive.revoked and valid_from <= now and (expires_at is None or now < expires_at)


def reference_entry_visible(
    world: World, viewer_org: int, viewer: int, entry: tuple[int, str], now: datetime
) -> bool:
    author_org, category = entry
    # Minimum necessary: organization admins and privacy officers read no entry at all.
    if world.role(viewer_org, viewer) in NON_READING_ROLES:
        return False
    # Rule 2: own organization's entries are always visible.
    if author_org == viewer_org:
        return True
    # Rule 4: an unexpired emergency access of this provider (only them) lifts rule 3.
    if any(e.active and e.org == viewer_org and e.provider == viewer for e in world.emergencies):
        return True

    # Rule 3: an active permit covers (O or O's sector, K) and no active deny does.
    def covers(directive: Directive) -> bool:
        return (
            reference_active(directive, now)
            and category in directive.categories
            and (
                directive.grantee_org == viewer_org
                or directive.grantee_sector == world.sectors[viewer_org]
            )
        )

    permitted = any(covers(d) for d in world.directives if d.effect == "permit")
    denied = any(covers(d) for d in world.directives if d.effect == "deny")
    return permitted and not denied


# --- building the world in the database -----------------------------------------------------


def build(world: World, now: datetime):
    organizations = [
        record_services.create_organization(name=f"Org {i}", sector=sector)
        for i, sector in enumerate(world.sectors)
    ]
    providers = [
        [
            # No password: hashing one per provider would dominate the run time.
            record_services.create_provider(
                username=f"p{i}_{j}",
                password=None,
                full_name=f"Provider {i}.{j}",
                organization=organization,
                role=world.role(i, j),
            )
            for j in range(PROVIDERS_PER_ORG)
        ]
        for i, organization in enumerate(organizations)
    ]
    client = record_services.register_client(
        provider=providers[0][0],
        given_name="Property",
        family_name="Client",
        birth_date=now.date() - timedelta(days=365 * 30),
    ).client
    for i, on_team in enumerate(world.on_team):
        if on_team:
            record_services.add_to_care_team(client, providers[i][0])

    recorder = providers[0][0]
    for directive in world.directives:
        valid_from, expires_at = windows(now)[directive.window]
        created = record_consent(
            provider=recorder,
            client=client,
            effect=directive.effect,
            categories=sorted(directive.categories),
            grantee_organization=(
                organizations[directive.grantee_org] if directive.grantee_org is not None else None
            ),
            grantee_sector=directive.grantee_sector or "",
            valid_from=valid_from,
            expires_at=expires_at,
        )
        if directive.revoked:
            revoke_consent(provider=recorder, directive=created)

    for emergency in world.emergencies:
        holder = providers[emergency.org][emergency.provider]
        if emergency.active and holder.role in NON_READING_ROLES:
            # No service grants them one (403); a row made some other way must
            # still lift nothing.
            EmergencyAccess.objects.create(
                client=client,
                provider=holder,
                organization=holder.organization,
                reason="A grant that no service would make.",
                granted_at=now - timedelta(hours=1),
                expires_at=now + timedelta(hours=3),
            )
        elif emergency.active:
            grant_emergency_access(provider=holder, client=client, reason="x" * 20)
        else:
            EmergencyAccess.objects.create(
                client=client,
                provider=holder,
                organization=holder.organization,
                reason="An emergency that is over by now.",
                granted_at=now - timedelta(hours=9),
                expires_at=now - timedelta(hours=5),
            )

    entries = [
        record_services.create_entry(
            client=client,
            author=providers[author_org][0],
            category=category,
            kind="note",
            title=f"Entry {n}",
        )
        for n, (author_org, category) in enumerate(world.entries)
    ]
    # Each entry as its newest version, and every version of each.
    current, versions = list(entries), [[entry] for entry in entries]
    for n in sorted(world.amended & set(range(len(entries)))):
        author = providers[world.entries[n][0]][0]
        current[n] = record_services.amend_entry(
            provider=author, entry=entries[n], title=f"Entry {n}, amended"
        )
        versions[n].append(current[n])
    for n in sorted(world.retracted & set(range(len(entries)))):
        author = providers[world.entries[n][0]][0]
        record_services.retract_entry(provider=author, entry=current[n], reason="In error.")
    return providers, client, current, versions


# Corners that random worlds reach only now and then, always checked.
DENY_OVER_PERMIT = World(
    sectors=["primary_care", "mental_health"],
    on_team=[True, True],
    directives=[
        Directive("permit", 1, None, frozenset({"mental_health"}), "open", False),
        Directive("deny", None, "mental_health", frozenset({"mental_health"}), "bounded", False),
        Directive("permit", None, "mental_health", frozenset({"substance_use"}), "open", False),
    ],
    emergencies=[],
    entries=[(0, "mental_health"), (0, "substance_use"), (1, "mental_health")],
)
WINDOWS_AND_REVOCATION = World(
    sectors=["primary_care", "mental_health", "mental_health"],
    on_team=[True, True, False],
    directives=[
        Directive("permit", 1, None, frozenset({"mental_health"}), "future", False),
        Directive("permit", None, "mental_health", frozenset({"substance_use"}), "expired", False),
        Directive("permit", 1, None, frozenset({"substance_use"}), "open", True),
        Directive("deny", 1, None, frozenset({"mental_health"}), "expired", False),
        Directive("permit", 2, None, frozenset({"mental_health", "substance_use"}), "open", False),
    ],
    emergencies=[],
    entries=[(0, "mental_health"), (0, "substance_use"), (2, "mental_health")],
)
NON_READERS_SEE_NOTHING = World(
    sectors=["primary_care", "mental_health", "mental_health"],
    on_team=[True, True, True],
    directives=[
        Directive("permit", None, "mental_health", frozenset(CATEGORIES), "open", False),
    ],
    emergencies=[Emergency(org=2, provider=1, active=True)],
    # Each organization authors entries; organization 1's privacy officer and
    # organization 2's admin (with an emergency row) would see some by rules 2–4.
    entries=[(0, "mental_health"), (1, "mental_health"), (2, "substance_use")],
    roles=("clinician", "privacy_officer", "org_admin"),
)
EMERGENCY_FOR_ONE_PROVIDER = World(
    sectors=["primary_care", "mental_health"],
    on_team=[True, True],
    directives=[
        Directive("deny", 1, None, frozenset({"mental_health", "substance_use"}), "open", False),
    ],
    emergencies=[Emergency(org=1, provider=0, active=True), Emergency(1, 1, False)],
    entries=[(0, "mental_health"), (0, "substance_use")],
)


class Rollback(Exception):
    """Undo one example's world, so the next starts from an empty database."""


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds())
@example(world=DENY_OVER_PERMIT)
@example(world=WINDOWS_AND_REVOCATION)
@example(world=EMERGENCY_FOR_ONE_PROVIDER)
@example(world=NON_READERS_SEE_NOTHING)
def test_engine_matches_the_reference(world: World):
    try:
        with transaction.atomic():
            now = timezone.now()
            providers, client, entries, versions = build(world, now)
            # Who may see each entry, by the reference: filled in provider by provider.
            viewers: dict[object, set[int]] = {entry.pk: set() for entry in entries}
            gated: dict[int, Client] = {}
            expected_by_provider: dict[Provider, set] = {}
            for org_index, org_providers in enumerate(providers):
                for provider_index, provider in enumerate(org_providers):
                    client_visible = visible_clients(provider).filter(pk=client.pk).exists()
                    assert client_visible == reference_client_visible(world, org_index)
                    anywhere = set(visible_entries_anywhere(provider).values_list("pk", flat=True))
                    if not client_visible:
                        # Rule 1 first: nothing of an invisible client, on any path.
                        assert anywhere == set()
                        continue
                    expected = {
                        entry.pk
                        for entry, spec in zip(entries, world.entries, strict=True)
                        if reference_entry_visible(world, org_index, provider_index, spec, now)
                    }
                    actual = set(visible_entries(provider, client).values_list("pk", flat=True))
                    assert actual == expected, (org_index, provider_index)
                    assert anywhere == expected
                    # Amended originals are reached by id by the same readers
                    # (rules 2–4 decide alike for every version); a retracted
                    # entry stays as a tombstone for them and for no one else.
                    all_versions = {
                        version.pk
                        for entry, each in zip(entries, versions, strict=True)
                        if entry.pk in expected
                        for version in each
                    }
                    seen = visible_entry_versions(provider, client).values_list("pk", flat=True)
                    assert set(seen) == all_versions
                    assert withheld_count(provider, client) == len(entries) - len(expected)
                    # The timeline's read: one decision for its page and both counts.
                    page, visible, withheld = entries_and_counts(provider, client)
                    assert set(page.values_list("pk", flat=True)) == expected
                    assert (visible, withheld) == (len(expected), len(entries) - len(expected))
                    # The same read of the client as the gate hands it over, rule
                    # 4 read with it: the engine decides from that, for its reader.
                    gated[provider.pk] = access_client(provider, client.pk)
                    page, visible, withheld = entries_and_counts(provider, gated[provider.pk])
                    assert set(page.values_list("pk", flat=True)) == expected
                    assert (visible, withheld) == (len(expected), len(entries) - len(expected))
                    expected_by_provider[provider] = expected
                    for entry_pk in expected:
                        viewers[entry_pk].add(provider.pk)
            # One account's rule 4, read with the client, never decides for
            # another: each reader, handed the client as the gate read it for
            # every other reader (an emergency holder's among them), still sees
            # exactly their own entries.
            for provider, expected in expected_by_provider.items():
                for reader_pk, other in gated.items():
                    page, visible, _ = entries_and_counts(provider, other)
                    assert set(page.values_list("pk", flat=True)) == expected, reader_pk
                    assert visible == len(expected)
            # The engine from the entry's side, over every account at once (rule 1
            # included: providers off the care team are among the candidates).
            everyone = Provider.objects.all()
            for entry in entries:
                seen_by = set(providers_who_may_see(entry, everyone).values_list("pk", flat=True))
                assert seen_by == viewers[entry.pk], entry.title
            raise Rollback
    except Rollback:
        pass
