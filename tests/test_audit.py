"""Rule 7 (every read and write audited, lists in one bulk insert, the log
append-only) and the django-guardian side of rule 1."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_groups_with_perms

from consent.selectors import clients_under_emergency, visible_clients
from consent.services import grant_emergency_access, record_consent
from core import audit
from core.models import AccessEvent
from records.models import ACCESS_CLIENT_PERMISSION, CareTeamMembership
from records.services import add_to_care_team, create_entry, leave_care_team
from tests.factories import ClientFactory, ProviderFactory
from tests.portal_support import open_portal_account
from tests.test_client_scoped_404 import ROUTE_PARAM, api_routes
from tests.test_query_counts import add_clients

REASON = "Client in crisis at the front desk, need the care plan."


@pytest.fixture
def scene(ana, dr_lee, family_practice, mh_centre):
    colleague = ProviderFactory(organization=family_practice)
    entry = create_entry(client=ana, author=dr_lee, category="housing", kind="note", title="Home")
    directive = record_consent(
        provider=dr_lee,
        client=ana,
        effect="permit",
        grantee_sector="housing",
        categories=["social"],
    )
    return {"colleague": colleague, "entry": entry, "directive": directive}


def audited_requests(ana, dr_lee, scene):
    """(caller, method, path, body, the action recorded). Reads of demographics,
    entries, consents and the access log, and every write under a client."""
    base = f"/api/v1/clients/{ana.pk}"
    return [
        ("dr_lee", "get", f"{base}/", None, "client.read"),
        ("dr_lee", "get", f"{base}/care-team/", None, "care_team.read"),
        ("dr_lee", "get", f"{base}/entries/", None, "entry.list"),
        ("dr_lee", "get", f"{base}/entries/{scene['entry'].pk}/", None, "entry.read"),
        ("dr_lee", "get", f"{base}/consents/", None, "consent.list"),
        ("privacy_pat", "get", f"{base}/access-log/", None, "access_log.read"),
        ("sysadmin", "get", f"{base}/access-log/", None, "access_log.read"),
        ("dr_lee", "get", "/api/v1/clients/", None, "client.list"),
        ("dr_lee", "get", "/api/v1/clients/?q=silva", None, "client.search"),
        (
            "dr_lee",
            "post",
            f"{base}/entries/",
            {"category": "housing", "kind": "note", "title": "Visit"},
            "entry.create",
        ),
        (
            "dr_lee",
            "post",
            f"{base}/consents/",
            {"effect": "deny", "grantee_sector": "hospital", "categories": ["social"]},
            "consent.record",
        ),
        (
            "dr_lee",
            "post",
            f"/api/v1/consents/{scene['directive'].pk}/revoke/",
            None,
            "consent.revoke",
        ),
        (
            "dr_lee",
            "post",
            f"{base}/care-team/",
            {"provider": scene["colleague"].pk},
            "care_team.add",
        ),
        (
            "dr_lee",
            "post",
            f"{base}/emergency-access/",
            {"reason": REASON},
            "emergency_access.grant",
        ),
        (
            "outsider",
            "post",
            "/api/v1/clients/",
            {
                "given_name": "Ana",
                "family_name": "Silva",
                "birth_date": "1990-05-17",
                "health_card_number": "1234567890",
            },
            "joined_by_matching",
        ),
        (
            # A match by a provider already on the care team joins nothing.
            "dr_lee",
            "post",
            "/api/v1/clients/",
            {
                "given_name": "Ana",
                "family_name": "Silva",
                "birth_date": "1990-05-17",
                "health_card_number": "1234567890",
            },
            "client.match",
        ),
        # The FHIR face: the same rules, one event per request, channel fhir.
        ("dr_lee", "get", f"/fhir/R4/Patient/{ana.pk}", None, "client.read"),
        ("dr_lee", "get", f"/fhir/R4/Patient/{ana.pk}/$everything", None, "record.export"),
        ("privacy_pat", "get", f"/fhir/R4/Patient/{ana.pk}/$everything", None, "record.export"),
        ("dr_lee", "get", "/fhir/R4/Patient?family=silva", None, "client.search"),
    ]


AUDITED_IDS = [
    "client.read",
    "care_team.read",
    "entry.list",
    "entry.read",
    "consent.list",
    "access_log.read-privacy",
    "access_log.read-superuser",
    "client.list",
    "client.search",
    "entry.create",
    "consent.record",
    "consent.revoke",
    "care_team.add",
    "emergency_access.grant",
    "joined_by_matching",
    "client.match",
    "fhir-patient.read",
    "fhir-everything",
    "fhir-everything-privacy",
    "fhir-patient.search",
]


@pytest.mark.parametrize("index", range(len(AUDITED_IDS)), ids=AUDITED_IDS)
def test_every_read_and_write_is_audited(
    index, ana, dr_lee, outsider, privacy_pat, sysadmin, scene, api_as
):
    callers = {
        "dr_lee": dr_lee,
        "outsider": outsider,
        "privacy_pat": privacy_pat,
        "sysadmin": sysadmin,
    }
    caller, method, path, body, action = audited_requests(ana, dr_lee, scene)[index]
    provider = callers[caller]
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    response = getattr(api_as(provider), method)(path, body, format="json")
    assert response.status_code < 300, response.content
    new = AccessEvent.objects.exclude(pk__in=before)
    assert [(e.client_id, e.actor_id, e.organization_id, e.action) for e in new] == [
        (ana.pk, provider.pk, provider.organization_id, action)
    ]
    # The grant itself is the first event made under the emergency access.
    assert new.get().emergency is (action == "emergency_access.grant")
    # Under the face the request came through.
    assert new.get().channel == ("fhir" if path.startswith("/fhir/") else "api")


def test_care_team_removal_is_audited(ana, dr_lee, api_as):
    before = AccessEvent.objects.count()
    assert (
        api_as(dr_lee).delete(f"/api/v1/clients/{ana.pk}/care-team/{dr_lee.pk}/").status_code == 204
    )
    assert AccessEvent.objects.count() == before + 1
    assert AccessEvent.objects.order_by("-at").first().action == "care_team.remove"


def test_events_under_emergency_access_are_marked(ana, emp_jo, api_as):
    grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
    before = AccessEvent.objects.count()
    api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/")
    api_as(emp_jo).get("/api/v1/clients/")
    events = AccessEvent.objects.order_by("-at")[: AccessEvent.objects.count() - before]
    assert len(events) == 2
    assert all(e.emergency for e in events)


def test_a_list_marks_only_the_clients_it_reads_under_emergency_access(ana, emp_jo, api_as):
    """The audit reads the holder's emergency accesses from their side and
    matches them to the page: a grant on one client marks that client's row
    alone, never the rest of the page."""
    add_clients(emp_jo, 2)
    grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    listed = {c["id"] for c in api_as(emp_jo).get("/api/v1/clients/").json()["results"]}
    assert str(ana.pk) in listed and len(listed) == 3
    marked = dict(AccessEvent.objects.exclude(pk__in=before).values_list("client_id", "emergency"))
    assert {str(client_id): flag for client_id, flag in marked.items()} == {
        client_id: client_id == str(ana.pk) for client_id in listed
    }


def test_the_audits_emergency_lookup_answers_for_the_clients_asked_about_only(ana, emp_jo):
    """Lists whose rows are not read through the gate (referrals, the inbox)
    ask this lookup: the holder's grants, matched to the page's clients."""
    others = ClientFactory.create_batch(2)
    grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
    assert clients_under_emergency(emp_jo, [ana.pk, *(c.pk for c in others)]) == {ana.pk}
    assert clients_under_emergency(emp_jo, [c.pk for c in others]) == set()


def test_the_audits_insert_writes_every_field_of_every_row(ana, emp_jo, dr_lee):
    """On PostgreSQL the rows of a read go in as one statement of the audit's
    own (`core.audit._insert_postgresql`), elsewhere by `bulk_create`: either
    way every field of the model is written, each row with its own client and
    emergency flag and a new id, the rest as the read's."""
    assert {field.attname for field in AccessEvent._meta.concrete_fields} == {
        "id",
        "client_id",
        "emergency",
        *audit._SHARED,
    }
    others = ClientFactory.create_batch(2)
    grant_emergency_access(provider=emp_jo, client=ana, reason=REASON)
    portal = open_portal_account(ana, dr_lee)
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    started = timezone.now()
    with audit.audit_channel(audit.Channel.FHIR):
        read = [others[0], ana, None, others[1], ana]
        audit.record_access(emp_jo, read, audit.Action.CLIENT_LIST)
    with audit.audit_channel(audit.Channel.PORTAL):
        audit.record_access(portal, ana, audit.Action.ACCESS_LOG_READ)
    new = list(AccessEvent.objects.exclude(pk__in=before).values())
    ids = [row.pop("id") for row in new]
    assert len(set(ids)) == 4 and {each.version for each in ids} == {4}
    assert len({row["at"] for row in new if not row["by_client"]}) == 1
    assert all(started <= row.pop("at") <= timezone.now() for row in new)
    read = {"action": "client.list", "channel": "fhir", "by_client": False}
    by_provider = {"actor_id": emp_jo.pk, "organization_id": emp_jo.organization_id, **read}
    assert sorted(new, key=lambda row: (row["by_client"], str(row["client_id"]))) == sorted(
        [
            {"client_id": others[0].pk, "emergency": False, **by_provider},
            {"client_id": ana.pk, "emergency": True, **by_provider},
            {"client_id": others[1].pk, "emergency": False, **by_provider},
            {
                "client_id": ana.pk,
                "emergency": False,
                "actor_id": portal.pk,
                "organization_id": None,
                "by_client": True,
                "action": "access_log.read",
                "channel": "portal",
            },
        ],
        key=lambda row: (row["by_client"], str(row["client_id"])),
    )


def test_denied_and_invalid_requests_record_nothing(ana, dr_lee, outsider, api_as):
    before = AccessEvent.objects.count()
    api_as(outsider).get(f"/api/v1/clients/{ana.pk}/")
    api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/access-log/")
    api_as(dr_lee).post(f"/api/v1/clients/{ana.pk}/entries/", {"title": ""}, format="json")
    api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/entries/", {"category": "astrology"})
    assert AccessEvent.objects.count() == before


@pytest.mark.parametrize(("n", "page_size"), [(3, None), (120, None), (150, 100)])
def test_a_list_records_one_event_per_client_in_one_insert(n, page_size, dr_lee, api_as):
    add_clients(dr_lee, n)
    params = {"page_size": page_size} if page_size else {}
    api = api_as(dr_lee)
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/clients/", params)
    returned = {c["id"] for c in response.json()["results"]}
    assert len(returned) == min(n, page_size or 50)
    inserts = [
        q for q in queries.captured_queries if re.match(r'INSERT INTO "core_accessevent"', q["sql"])
    ]
    assert len(inserts) == 1
    new = AccessEvent.objects.exclude(pk__in=before)
    assert sorted(str(e.client_id) for e in new) == sorted(returned)
    assert {e.action for e in new} == {"client.list"}


def test_empty_list_records_nothing(outsider, api_as):
    with CaptureQueriesContext(connection) as queries:
        assert api_as(outsider).get("/api/v1/clients/").json()["count"] == 0
    assert not any("core_accessevent" in q["sql"] for q in queries.captured_queries)


def test_no_api_endpoint_updates_or_deletes_an_access_event(
    ana, dr_lee, privacy_pat, sysadmin, scene, api_as
):
    """Every route under /api/v1/, every writing method, with every id filled
    with an access event's id (and the client's): the existing events survive
    unchanged. Nothing in the URL space names an access event."""
    api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/")
    event = AccessEvent.objects.order_by("-at").first()
    snapshot = {
        e.pk: (e.client_id, e.actor_id, e.organization_id, e.action, e.at, e.emergency)
        for e in AccessEvent.objects.all()
    }
    routes = api_routes()
    assert not [route for route in routes if "event" in route]
    for route, methods in routes.items():
        for values in ({"client_id": ana.pk}, {}):
            path = "/api/v1/" + ROUTE_PARAM.sub(
                lambda m, v=values: str(v.get(m.group(1), event.pk)), route
            )
            for method in methods & {"post", "put", "patch", "delete"}:
                for caller in (privacy_pat, sysadmin):
                    response = getattr(api_as(caller), method)(
                        path, {"id": str(event.pk), "action": "tampered"}, format="json"
                    )
                    assert response.status_code < 500, (method, path)
    for e in AccessEvent.objects.filter(pk__in=snapshot):
        assert (e.client_id, e.actor_id, e.organization_id, e.action, e.at, e.emergency) == (
            snapshot[e.pk]
        )
    assert AccessEvent.objects.filter(pk__in=snapshot).count() == len(snapshot)


# --- django-guardian ---------------------------------------------------------------------


def test_global_permission_grants_no_client(ana, outsider, hospital):
    assert not visible_clients(outsider).exists()
    assign_perm(ACCESS_CLIENT_PERMISSION, outsider)
    outsider = type(outsider).objects.get(pk=outsider.pk)  # drop the permission cache
    assert outsider.has_perm(ACCESS_CLIENT_PERMISSION)
    assert not visible_clients(outsider).exists()

    assign_perm(ACCESS_CLIENT_PERMISSION, hospital.group)
    other_group = Group.objects.create(name="all clients")
    assign_perm(ACCESS_CLIENT_PERMISSION, other_group)
    outsider.groups.add(other_group)
    outsider = type(outsider).objects.get(pk=outsider.pk)
    assert not visible_clients(outsider).exists()


def test_global_permission_grants_no_client_through_the_api(ana, outsider, api_as):
    assign_perm(ACCESS_CLIENT_PERMISSION, outsider)
    assign_perm(ACCESS_CLIENT_PERMISSION, outsider.organization.group)
    assert api_as(outsider).get(f"/api/v1/clients/{ana.pk}/").status_code == 404
    assert api_as(outsider).get("/api/v1/clients/").json()["count"] == 0


def test_superuser_flag_grants_no_client(ana, sysadmin, outsider):
    assert not visible_clients(sysadmin).exists()
    outsider.is_superuser = True
    outsider.save()
    assert not visible_clients(outsider).exists()


def groups_with_access(client) -> set[int]:
    return {group.pk for group in get_groups_with_perms(client, attach_perms=False)}


def organizations_on_team(client) -> set[int]:
    return set(
        CareTeamMembership.objects.filter(client=client, ended_at__isnull=True).values_list(
            "organization__group_id", flat=True
        )
    )


def test_guardian_permissions_follow_care_team_membership(
    dr_lee, intake_kim, emp_jo, family_practice, outsider
):
    client = ClientFactory(registered_by=dr_lee)
    colleague = ProviderFactory(organization=family_practice)
    steps = [
        lambda: add_to_care_team(client, intake_kim),
        lambda: add_to_care_team(client, colleague),
        lambda: add_to_care_team(client, emp_jo),
        lambda: add_to_care_team(client, emp_jo),  # idempotent
        lambda: leave_care_team(actor=dr_lee, client=client, provider=dr_lee),
        lambda: leave_care_team(actor=emp_jo, client=client, provider=emp_jo),
        lambda: leave_care_team(actor=colleague, client=client, provider=colleague),
        lambda: add_to_care_team(client, outsider),
        lambda: add_to_care_team(client, emp_jo),
    ]
    assert groups_with_access(client) == organizations_on_team(client)
    for step in steps:
        step()
        assert groups_with_access(client) == organizations_on_team(client)
        for provider in (dr_lee, intake_kim, emp_jo, colleague, outsider):
            on_team = provider.organization.group_id in organizations_on_team(client)
            assert visible_clients(provider).filter(pk=client.pk).exists() == on_team
    assert groups_with_access(client) == {
        intake_kim.organization.group_id,
        outsider.organization.group_id,
        emp_jo.organization.group_id,
    }
    assert not CareTeamMembership.objects.filter(
        client=client, provider=dr_lee, ended_at__isnull=True
    ).exists()
    # History is kept: the ended memberships stay, with their end dates.
    assert CareTeamMembership.objects.filter(client=client, ended_at__isnull=False).count() == 3
