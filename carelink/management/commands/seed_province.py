"""Fill a PostgreSQL database with a province's worth of CareLink, to measure reads
at scale (docs/performance.md, "Province scale").

    manage.py seed_province --clients 100000 [--seed 1]

Sizes follow the client count by fixed ratios (at 100,000 clients: 50
organizations offering 150 services, 2,000 providers, 2,000,000 entries, 300,000
directives, 200,000 referrals (four in five to a service of the receiving
organization), 1,000,000 access events, and the referral notifications of the
receiving organizations' intake workers). Every row is made by set-based SQL
(`INSERT … SELECT … FROM generate_series`), in chunks with a progress bar per
table; every "random" choice is a hash of the seed and the row number, so the
same seed makes the same province. The shapes that the benchmark reads need
are made on purpose: organization 1 receives a tenth of all referrals (its
intake workers have the largest inboxes), and the first 200 clients carry 500
extra entries each (a long timeline beside the usual 19 or so).

Written by hand because no library seeds through our own gate: the care-team
permission rows (django-guardian's table) must match the memberships exactly,
or the benchmark would measure a different engine.
"""

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from consent.models import ConsentDirective, ConsentDirectiveCategory
from core.models import AccessEvent, Notification, OutboxEvent
from core.vocabulary import Category, EntryKind, Role, Sector
from records.models import (
    CareTeamMembership,
    Client,
    ClientGroupObjectPermission,
    Entry,
    Organization,
    Provider,
    Service,
)
from referrals.models import Referral

PASSWORD = "carelink-province"
CHUNK = 100_000
SECTORS = list(Sector.values)
CATEGORIES = list(Category.values)
KINDS = [k for k in EntryKind.values if k != EntryKind.INTAKE_REPORT]
GIVEN = ["Ana", "Marcus", "Leo", "Maya", "Noah", "Ava", "Liam", "Zoe", "Omar", "Ines", "Theo"]
FAMILY = ["Silva", "Brown", "Tremblay", "Nguyen", "Singh", "Roy", "Cohen", "Diaz", "Okafor"]
# A provider's role by their rank in their organization (rank % 10).
ROLE_BY_RANK = {
    0: Role.INTAKE_WORKER,
    1: Role.PRIVACY_OFFICER,
    2: Role.ORG_ADMIN,
    3: Role.CARE_COORDINATOR,
    4: Role.CARE_COORDINATOR,
}
# Every organization offers this many services; four referrals in five name one.
SERVICES_EACH = 3
# Ranks that may be on a care team (not the minimum-necessary roles).
CLINICAL_RANKS = (0, 3, 4, 5, 6, 7, 8, 9)


@dataclass(frozen=True)
class Sizes:
    clients: int
    organizations: int
    providers: int
    entries: int
    directives: int
    services: int
    referrals: int
    access_events: int

    @classmethod
    def for_clients(cls, clients: int) -> "Sizes":
        return cls(
            clients=clients,
            organizations=max(5, clients // 2_000),
            providers=max(50, clients // 50),
            entries=clients * 20,
            directives=clients * 3,
            services=max(5, clients // 2_000) * SERVICES_EACH,
            referrals=clients * 2,
            access_events=clients * 10,
        )


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        import json

        return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def default_sql(field: models.Field) -> str:
    """What a column the seeder does not set receives: the field's own default."""
    if field.null:
        return "NULL"
    if field.has_default():
        default = field.default
        if callable(default):
            name = getattr(default, "__name__", "")
            if name == "now":
                return "now()"
            if name in ("dict", "list"):
                return sql_literal(default())
            raise CommandError(f"seed_province: no SQL for the default of {field}")
        return sql_literal(default)
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return "''"
    raise CommandError(f"seed_province does not know what to put in {field} (NOT NULL, no default)")


class Command(BaseCommand):
    help = "Fill PostgreSQL with a province: 100,000 clients by default (see the module)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, clients: int, seed: int, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("seed_province needs PostgreSQL (set DATABASE_URL=postgres://…).")
        if Client.objects.exists():
            raise CommandError("The database already has clients; seed an empty, migrated one.")
        self.seed = seed
        self.sizes = Sizes.for_clients(clients)
        started = time.monotonic()
        columns = [
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=None, transient=False) as self.progress:
            with transaction.atomic():
                self.create_functions()
                self.load_fast()
                self.seed_organizations()
                self.seed_providers()
                self.seed_clients_and_care_teams()
                self.seed_entries()
                self.seed_directives()
                self.seed_services()
                self.seed_referrals()
                self.seed_inboxes()
                self.seed_access_events()
                self.rebuild_indexes()
                self.drop_functions()
            self.analyze()
        self.report(time.monotonic() - started)

    # --- SQL helpers ---------------------------------------------------------------------

    def create_functions(self) -> None:
        """h(tag, i) — a deterministic non-negative integer for row i of a table:
        PostgreSQL's own 64-bit hash of i, salted by the seed and the tag (the
        functions hash partitioning relies on, so stable across versions). It
        is called a dozen times per row: an md5 each made the entries alone
        take two minutes. u(tag, i) — a deterministic UUID (md5, once a row)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                CREATE OR REPLACE FUNCTION pg_temp.h(tag text, i bigint) RETURNS bigint
                LANGUAGE sql IMMUTABLE AS $$
                    SELECT hashint8extended(i, hashtext(tag)::bigint * 1000003 + {self.seed})
                        & 9223372036854775807
                $$;
                CREATE OR REPLACE FUNCTION pg_temp.u(tag text, i bigint) RETURNS uuid
                LANGUAGE sql IMMUTABLE AS $$ SELECT md5('{self.seed}:' || tag || ':' || i)::uuid $$;
                """
            )

    # The big tables are written without their secondary indexes (rebuilt once at
    # the end, sorted) and without the per-row foreign-key triggers, which the
    # seeder does not need: every id it writes names a row it wrote first.
    BIG_TABLES = (Entry, AccessEvent, Notification, ConsentDirectiveCategory, Referral)

    def load_fast(self) -> None:
        tables = [model._meta.db_table for model in self.BIG_TABLES]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname "
                "JOIN pg_index x ON x.indexrelid = c.oid "
                "WHERE i.tablename = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary",
                [tables],
            )
            self.dropped = cursor.fetchall()
            for name, _ in self.dropped:
                cursor.execute(f'DROP INDEX "{name}"')

    def rebuild_indexes(self) -> None:
        task = self.progress.add_task("indexes", total=len(self.dropped))
        with connection.cursor() as cursor:
            for n, (_, definition) in enumerate(self.dropped, 1):
                cursor.execute(definition)
                self.progress.update(task, completed=n)
            cursor.execute("SET LOCAL session_replication_role = origin")

    def drop_functions(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP FUNCTION pg_temp.h(text, bigint); DROP FUNCTION pg_temp.u(text, bigint)"
            )

    def run_sql(self, sql: str, params: tuple | None = None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def insert(
        self,
        model: type[models.Model],
        description: str,
        total: int,
        values: dict[str, str],
        source: str = "generate_series(:lo, :hi) AS s(i)",
        where: str = "",
        conflict: str = "",
    ) -> None:
        """INSERT … SELECT over `source` in chunks of row numbers `i`; every column
        not in `values` gets its field's default."""
        fields = [
            f
            for f in model._meta.concrete_fields
            # An auto-increment id the database numbers itself, unless given.
            if not (isinstance(f, models.AutoField) and f.attname not in values)
        ]
        names = [f.column for f in fields]
        expressions = []
        for field in fields:
            key = field.attname if field.attname in values else field.name
            expressions.append(values.get(key) or default_sql(field))
        known = {f.attname for f in model._meta.concrete_fields}
        unknown = set(values) - known - {f.name for f in model._meta.concrete_fields}
        if unknown:
            raise CommandError(f"seed_province: {model.__name__} has no {sorted(unknown)}")
        task = self.progress.add_task(description, total=total)
        for lo in range(1, total + 1, CHUNK):
            hi = min(total, lo + CHUNK - 1)
            sql = (
                f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) "
                f"SELECT {', '.join(expressions)} "
                f"FROM {source.replace(':lo', str(lo)).replace(':hi', str(hi))} "
                f"{where} {conflict}"
            )
            self.run_sql(sql)
            self.progress.update(task, completed=hi)

    def pick(self, options: list[str], tag: str, i: str = "i") -> str:
        array = "ARRAY[" + ", ".join(sql_literal(o) for o in options) + "]"
        return f"({array})[1 + pg_temp.h('{tag}', {i}) % {len(options)}]"

    # --- the province --------------------------------------------------------------------

    def seed_organizations(self) -> None:
        n = self.sizes.organizations
        self.group_base = (Group.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        self.org_base = (Organization.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        self.insert(
            Group,
            "groups",
            n,
            {
                "id": f"{self.group_base} + i - 1",
                "name": f"'organization:' || ({self.org_base} + i - 1)",
            },
        )
        self.insert(
            Organization,
            "organizations",
            n,
            {
                "id": f"{self.org_base} + i - 1",
                "name": "'Organization ' || i",
                # Organization 1 is a mental-health centre: it receives the most referrals.
                "sector": (
                    f"CASE WHEN i = 1 THEN 'mental_health' ELSE {self.pick(SECTORS, 'sector')} END"
                ),
                "group_id": f"{self.group_base} + i - 1",
            },
        )
        self.reset_sequence(Group)
        self.reset_sequence(Organization)

    def seed_providers(self) -> None:
        n, orgs = self.sizes.providers, self.sizes.organizations
        self.provider_base = (Provider.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        self.per_org = n // orgs
        role = (
            "CASE (i - 1) / {orgs} % 10 "
            + " ".join(f"WHEN {rank} THEN '{value}'" for rank, value in ROLE_BY_RANK.items())
            + " ELSE 'clinician' END"
        )
        self.insert(
            Provider,
            "providers",
            n,
            {
                "id": f"{self.provider_base} + i - 1",
                "password": sql_literal(make_password(PASSWORD)),
                "username": "'province-' || i",
                "full_name": "'Provider ' || i",
                "organization_id": f"{self.org_base} + (i - 1) % {orgs}",
                "role": role.format(orgs=orgs),
                "is_active": "true",
            },
        )
        self.reset_sequence(Provider)
        through = Provider.groups.through
        self.insert(
            through,
            "provider groups",
            n,
            {
                "provider_id": f"{self.provider_base} + i - 1",
                "group_id": f"{self.group_base} + (i - 1) % {orgs}",
            },
        )

    def provider_expr(self, org: str, rank: str) -> str:
        """The provider of organization index `org` (0-based) with rank `rank`."""
        return f"{self.provider_base} + ({org}) + {self.sizes.organizations} * ({rank})"

    def seed_clients_and_care_teams(self) -> None:
        n, orgs = self.sizes.clients, self.sizes.organizations
        self.insert(
            Client,
            "clients",
            n,
            {
                "id": "pg_temp.u('client', i)",
                "given_name": self.pick(GIVEN, "given"),
                "family_name": self.pick(FAMILY, "family") + " || ' ' || i",
                "birth_date": "DATE '1940-01-01' + (pg_temp.h('born', i) % 25000)::int",
                "health_card_number": "lpad(i::text, 10, '0')",
                "health_card_normalized": "lpad(i::text, 10, '0')",
                "created_at": "now() - (pg_temp.h('joined', i) % 700) * interval '1 day'",
            },
        )
        # 1 to 3 members per client, from up to three organizations, clinical ranks only.
        ranks = "ARRAY[" + ", ".join(str(r) for r in CLINICAL_RANKS) + "]"
        per_org_clinical = max(1, self.per_org // 10)
        rank = (
            f"({ranks})[1 + pg_temp.h('rank', i * 4 + k) % {len(CLINICAL_RANKS)}]"
            f" + 10 * (pg_temp.h('tier', i * 4 + k) % {per_org_clinical})"
        )
        org = f"pg_temp.h('team', i * 4 + k) % {orgs}"
        self.insert(
            CareTeamMembership,
            "care-team members",
            n,
            {
                "client_id": "pg_temp.u('client', i)",
                "provider_id": self.provider_expr(org, rank),
                "organization_id": f"{self.org_base} + {org}",
                "since": "now() - (pg_temp.h('since', i) % 700) * interval '1 day'",
            },
            source="generate_series(:lo, :hi) AS s(i) CROSS JOIN generate_series(0, 2) AS t(k)",
            where="WHERE k <= pg_temp.h('size', i) % 3",
            conflict="ON CONFLICT DO NOTHING",
        )
        # Clients by number, and their members numbered per client (slot 0, 1, 2):
        # entries, directives and referrals pick among them by primary-key lookups.
        self.run_sql(
            "CREATE TEMP TABLE seed_client ON COMMIT DROP AS "
            f"SELECT i AS n, pg_temp.u('client', i) AS id FROM generate_series(1, {n}) AS s(i)"
        )
        self.run_sql("ALTER TABLE seed_client ADD PRIMARY KEY (id)")
        self.run_sql(
            "CREATE TEMP TABLE seed_member ON COMMIT DROP AS "
            "SELECT c.n, m.client_id, m.provider_id, m.organization_id, "
            "row_number() OVER (PARTITION BY m.client_id ORDER BY m.id) - 1 AS slot, "
            "count(*) OVER (PARTITION BY m.client_id) AS team "
            f"FROM {CareTeamMembership._meta.db_table} m JOIN seed_client c ON c.id = m.client_id"
        )
        self.run_sql("ALTER TABLE seed_member ADD PRIMARY KEY (n, slot)")
        self.run_sql("ANALYZE seed_client; ANALYZE seed_member")
        permission = Permission.objects.get(
            codename="access_client", content_type__app_label="records"
        )
        task = self.progress.add_task("care-team permissions", total=1)
        self.run_sql(
            f"""
            INSERT INTO {ClientGroupObjectPermission._meta.db_table}
                (content_object_id, group_id, permission_id)
            SELECT DISTINCT m.client_id, o.group_id, {permission.pk}
            FROM seed_member m JOIN {Organization._meta.db_table} o ON o.id = m.organization_id
            """
        )
        self.progress.update(task, completed=1)

    def seed_entries(self) -> None:
        n = self.sizes.clients
        usual = n * 19
        total = self.sizes.entries
        # Rows 1..usual: 19 per client; the rest: 500 more for each of the first 200 clients.
        client_of = (
            f"CASE WHEN i <= {usual} THEN 1 + (i - 1) % {n} "
            f"ELSE 1 + (i - {usual} - 1) % LEAST(200, {n}) END"
        )
        self.insert(
            Entry,
            "entries",
            total,
            {
                "id": "pg_temp.u('entry', i)",
                "client_id": "m.client_id",
                "category": self.pick(CATEGORIES, "category"),
                "kind": self.pick(KINDS, "kind"),
                "title": "'Entry ' || i",
                "body": "'Seen today; plan reviewed with the client.'",
                "data": "'{}'::jsonb",
                "occurred_at": "now() - (pg_temp.h('occurred', i) % 700) * interval '1 day'",
                "created_at": "now() - (pg_temp.h('occurred', i) % 700) * interval '1 day'",
                "author_id": "m.provider_id",
                "organization_id": "m.organization_id",
            },
            source=(
                f"(SELECT i, {client_of} AS n FROM generate_series(:lo, :hi) AS s(i)) AS s "
                "JOIN seed_member lead ON lead.n = s.n AND lead.slot = 0 "
                "JOIN seed_member m ON m.n = s.n AND m.slot = pg_temp.h('author', s.i) % lead.team"
            ),
        )

    def seed_directives(self) -> None:
        n = self.sizes.clients
        total = self.sizes.directives
        orgs = self.sizes.organizations
        by_org = "pg_temp.h('grantee', i) % 2 = 0"
        self.insert(
            ConsentDirective,
            "consent directives",
            total,
            {
                "id": "pg_temp.u('directive', i)",
                "client_id": "m.client_id",
                "effect": "CASE WHEN pg_temp.h('effect', i) % 5 = 0 THEN 'deny' ELSE 'permit' END",
                "grantee_organization_id": (
                    f"CASE WHEN {by_org} "
                    f"THEN {self.org_base} + pg_temp.h('grantee_org', i) % {orgs} END"
                ),
                "grantee_sector": (
                    f"CASE WHEN {by_org} THEN '' ELSE {self.pick(SECTORS, 'grantee_sector')} END"
                ),
                "valid_from": "now() - (pg_temp.h('valid', i) % 700 + 1) * interval '1 day'",
                "revoked_at": "CASE WHEN pg_temp.h('revoked', i) % 20 = 0 THEN now() END",
                "revoked_by_id": (
                    "CASE WHEN pg_temp.h('revoked', i) % 20 = 0 THEN m.provider_id END"
                ),
                "recorded_by_id": "m.provider_id",
                "recorded_at": "now() - (pg_temp.h('valid', i) % 700 + 1) * interval '1 day'",
            },
            source=(
                "generate_series(:lo, :hi) AS s(i) "
                f"JOIN seed_member m ON m.n = 1 + (i - 1) % {n} AND m.slot = 0"
            ),
        )
        # One to three categories each.
        self.insert(
            ConsentDirectiveCategory,
            "directive categories",
            total,
            {
                "directive_id": "pg_temp.u('directive', i)",
                "category": (
                    f"(ARRAY{CATEGORIES!r})[1 + (pg_temp.h('dcat', i) + k * 3) % {len(CATEGORIES)}]"
                ),
            },
            source="generate_series(:lo, :hi) AS s(i) CROSS JOIN generate_series(0, 2) AS t(k)",
            where="WHERE k <= pg_temp.h('dcats', i) % 3",
            conflict="ON CONFLICT DO NOTHING",
        )

    def seed_services(self) -> None:
        """SERVICES_EACH services per organization, numbered so that service
        `1 + SERVICES_EACH * k + j` is the j-th of organization index k; one in
        ten is not accepting referrals now (its waits still show)."""
        self.insert(
            Service,
            "services",
            self.sizes.services,
            {
                "id": "pg_temp.u('service', i)",
                "organization_id": f"{self.org_base} + (i - 1) / {SERVICES_EACH}",
                "name": f"'Service ' || (1 + (i - 1) % {SERVICES_EACH})",
                "accepting_referrals": "pg_temp.h('closed', i) % 10 <> 0",
            },
        )

    def seed_referrals(self) -> None:
        n, orgs = self.sizes.clients, self.sizes.organizations
        total = self.sizes.referrals
        # A tenth of all referrals go to organization 1; the rest anywhere else.
        to_org = (
            f"CASE WHEN pg_temp.h('to_big', i) % 10 = 0 THEN 0 "
            f"ELSE 1 + pg_temp.h('to', i) % {orgs - 1} END"
        )
        status = (
            "(ARRAY['sent','accepted','scheduled','completed','completed','declined','cancelled'])"
            "[1 + pg_temp.h('status', i) % 7]"
        )
        created = "now() - (pg_temp.h('sent', i) % 700) * interval '1 day'"
        to_index = (
            f"CASE WHEN m.organization_id = {self.org_base} + r.to_org "
            f"THEN (r.to_org + 1) % {orgs} ELSE r.to_org END"
        )
        self.insert(
            Referral,
            "referrals",
            total,
            {
                "id": "pg_temp.u('referral', i)",
                "client_id": "m.client_id",
                "from_organization_id": "m.organization_id",
                # Never the referring organization itself: the next one instead.
                "to_organization_id": f"{self.org_base} + {to_index}",
                # Four in five to one of the receiving organization's services.
                "service_id": (
                    f"CASE WHEN pg_temp.h('no_service', i) % 5 = 0 THEN NULL ELSE "
                    f"pg_temp.u('service', 1 + {SERVICES_EACH} * ({to_index}) "
                    f"+ pg_temp.h('service', i) % {SERVICES_EACH}) END"
                ),
                "referred_by_id": "m.provider_id",
                "reason": "'Needs support the referring team cannot give.'",
                "urgency": self.pick(["routine", "routine", "urgent", "emergent"], "urgency"),
                "status": "r.status",
                "created_at": created,
                "accepted_at": (
                    "CASE WHEN r.status IN ('accepted','scheduled','completed') "
                    f"THEN {created} + interval '3 days' END"
                ),
                "appointment_at": (
                    "CASE WHEN r.status IN ('scheduled','completed') "
                    f"THEN {created} + (pg_temp.h('wait', i) % 90 + 4) * interval '1 day' END"
                ),
                "completed_at": (
                    "CASE WHEN r.status = 'completed' "
                    f"THEN {created} + (pg_temp.h('wait', i) % 90 + 5) * interval '1 day' END"
                ),
                "declined_at": (
                    f"CASE WHEN r.status = 'declined' THEN {created} + interval '2 days' END"
                ),
                "decline_reason": "CASE WHEN r.status = 'declined' THEN 'No capacity.' ELSE '' END",
                "cancelled_at": (
                    f"CASE WHEN r.status = 'cancelled' THEN {created} + interval '2 days' END"
                ),
                "cancel_reason": "CASE WHEN r.status = 'cancelled' THEN 'Moved away.' ELSE '' END",
                # The moment it stopped waiting: first scheduled (a day after
                # acceptance), or declined or cancelled.
                "stopped_waiting_at": (
                    "CASE WHEN r.status IN ('scheduled','completed') "
                    f"THEN {created} + interval '4 days' "
                    "WHEN r.status IN ('declined','cancelled') "
                    f"THEN {created} + interval '2 days' END"
                ),
            },
            source=(
                f"(SELECT i, {to_org} AS to_org, {status} AS status "
                "FROM generate_series(:lo, :hi) AS s(i)) AS r(i, to_org, status) "
                f"JOIN seed_member m ON m.n = 1 + pg_temp.h('rclient', r.i) % {n} AND m.slot = 0"
            ),
        )

    def seed_inboxes(self) -> None:
        """Each referral's `referral_received` event, delivered to the receiving
        organization's intake workers (rank 0, 10, 20, …)."""
        referrals = Referral._meta.db_table
        organizations = Organization._meta.db_table
        task = self.progress.add_task("referral events", total=1)
        self.run_sql(
            f"""
            INSERT INTO {OutboxEvent._meta.db_table}
                (id, kind, client_id, actor_id, subject_type, subject_id, entry_id, detail,
                 once_key, created_at, dispatched_at, dispatch_count, delivered_at)
            SELECT r.id, 'referral_received', r.client_id, r.referred_by_id,
                   'referrals.referral', r.id, NULL,
                   jsonb_build_object(
                       'from_organization', jsonb_build_object('id', f.id, 'name', f.name),
                       'to_organization', jsonb_build_object('id', t.id, 'name', t.name),
                       'referred_by', r.referred_by_id),
                   NULL, r.created_at, r.created_at, 1, r.created_at
            FROM {referrals} r
            JOIN {organizations} f ON f.id = r.from_organization_id
            JOIN {organizations} t ON t.id = r.to_organization_id
            """
        )
        self.progress.update(task, completed=1)
        providers = Provider._meta.db_table
        task = self.progress.add_task("notifications", total=1)
        self.run_sql(
            f"""
            INSERT INTO {Notification._meta.db_table}
                (id, event_id, recipient_id, kind, client_id, party_organization_id,
                 created_at, read_at, emailed_at)
            SELECT md5('{self.seed}:n:' || e.id || ':' || p.id)::uuid, e.id, p.id, e.kind,
                   e.client_id, p.organization_id, e.created_at,
                   CASE WHEN p.organization_id = {self.org_base} THEN NULL
                        WHEN pg_temp.h('read', ('x' || substr(e.id::text, 1, 8))::bit(32)::int)
                             % 5 > 0
                        THEN e.created_at + interval '1 day' END,
                   NULL
            FROM {OutboxEvent._meta.db_table} e
            JOIN {providers} p
                ON p.organization_id = (e.detail -> 'to_organization' ->> 'id')::bigint
                AND p.role = 'intake_worker'
            """
        )
        self.progress.update(task, completed=1)

    def seed_access_events(self) -> None:
        n = self.sizes.clients
        actions = ["client.read", "entry.list", "client.list", "referral.list", "entry.read"]
        # Client 1's log is long (every 1,600th event), the others' short.
        client_of = f"CASE WHEN i % 1600 = 0 THEN 1 ELSE 1 + pg_temp.h('aclient', i) % {n} END"
        self.insert(
            AccessEvent,
            "access events",
            self.sizes.access_events,
            {
                "id": "pg_temp.u('access', i)",
                "client_id": "m.client_id",
                "actor_id": "m.provider_id",
                "organization_id": "m.organization_id",
                "by_client": "false",
                "action": self.pick(actions, "action"),
                "channel": self.pick(["api", "web"], "channel"),
                "at": "now() - (pg_temp.h('at', i) % 700) * interval '1 day'",
                "emergency": "false",
            },
            source=(
                f"(SELECT i, {client_of} AS n FROM generate_series(:lo, :hi) AS s(i)) AS s "
                "JOIN seed_member m ON m.n = s.n AND m.slot = 0"
            ),
        )

    # --- finishing -----------------------------------------------------------------------

    def reset_sequence(self, model: type[models.Model]) -> None:
        table = model._meta.db_table
        self.run_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(max(id), 1) FROM {table}))"
        )

    def analyze(self) -> None:
        # VACUUM too: it sets the visibility map, without which no scan is
        # index-only (every count would visit the table, as no live database does).
        task = self.progress.add_task("vacuum, analyze", total=1)
        self.run_sql("VACUUM (ANALYZE)")
        self.progress.update(task, completed=1)

    def report(self, seconds: float) -> None:
        counts = {
            "organizations": Organization.objects.count(),
            "providers": Provider.objects.count(),
            "clients": Client.objects.count(),
            "care-team members": CareTeamMembership.objects.count(),
            "entries": Entry.objects.count(),
            "directives": ConsentDirective.objects.count(),
            "services": Service.objects.count(),
            "referrals": Referral.objects.count(),
            "notifications": Notification.objects.count(),
            "access events": AccessEvent.objects.count(),
        }
        self.stdout.write(f"\nSeeded in {seconds:.0f} s (seed {self.seed}):")
        for name, count in counts.items():
            self.stdout.write(f"  {name:<18} {count:>10,}")
        big = self.org_base
        intake = Provider.objects.filter(organization_id=big, role=Role.INTAKE_WORKER).first()
        officer = Provider.objects.filter(organization_id=big, role=Role.PRIVACY_OFFICER).first()
        busiest = (
            CareTeamMembership.objects.values("provider__username")
            .annotate(n=models.Count("id"))
            .order_by("-n")
            .first()
        )
        self.stdout.write(f"\nEvery seeded login has the password {PASSWORD!r}. Measured users:")
        self.stdout.write(
            f"  {intake.username:<16} intake worker of Organization 1 (largest inbox)"
        )
        self.stdout.write(f"  {officer.username:<16} privacy officer of Organization 1")
        self.stdout.write(f"  {busiest['provider__username']:<16} on {busiest['n']} care teams")
        self.stdout.write(f"  base URL: {settings.CARELINK_BASE_URL}")
