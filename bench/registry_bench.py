"""Registry benchmark: one organization's first page of the PHQ-9 registry,
5,000 clients with 8 assessments each, beside the plainest SQL for the same rows.

Not a test: a script that reports numbers for docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_registry \\
    .venv/bin/python bench/registry_bench.py --clients 5000 --per-client 8 --runs 200

What it builds (once; a second run reuses it, `--rebuild` starts over): a
mental-health centre (the reader's organization) and a family practice, both
on every client's care team; per client 8 PHQ-9s over the last 200 days, 6 by
the centre and 2 by the practice. Nine clients in ten share mental health with
mental-health organizations (a permit), one in ten does not (a deny), so the
consent filter really decides: the practice's assessments of those clients are
hidden from the centre. The scores make every status of the registry common.

What it times, in turn (A B C D A B C D …, so drift hits all alike):
- `selector`: `measures.selectors.registry(reader, PHQ9)` — the one query for
  the first page with the summary, as the API runs it;
- `plain SQL`: the same 50 rows by hand-written SQL (the rules spelled out as
  correlated EXISTS, no summary, no ORM), and `plain SQL, hashed` with rule 3
  as uncorrelated sets — the floor is the faster of the two;
- `API`: `GET /api/v1/registry/?instrument=phq9` through Django and DRF, with
  the audit's 50 access events and the JSON — what a client waits for.
Each reported as p50 / p95 / min over `--runs`, in milliseconds. The script
first checks that the selector and both plain SQLs return the same rows.
The selector and the floors run with PostgreSQL's JIT off (see the selector).
"""

import argparse
import random
import sys
import time
import uuid
from datetime import date, timedelta

# The project on the path, and the percentile (this folder).
from common import nearest_rank

CENTRE = "Bench Mental Health Centre"
PRACTICE = "Bench Family Practice"


# Per client, one of these score shapes (oldest first, 8 points), so every
# status is common: flat (not improving), falling by half (response), falling
# below 5 (remission), stopped early (no follow-up), recent start (in treatment).
SHAPES = {
    "flat": [18, 17, 18, 17, 16, 17, 16, 17],
    "response": [20, 18, 16, 14, 12, 11, 10, 9],
    "remission": [14, 12, 10, 8, 7, 5, 4, 3],
    "stopped": [16, 15, 15, 14, 15, 14, 15, 14],
    "recent": [19, 18, 18, 17, 17, 16, 16, 15],
}


def build(n_clients: int, per_client: int) -> None:
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction
    from django.utils import timezone

    from consent.models import ConsentDirective, ConsentDirectiveCategory
    from measures.instruments import PHQ9
    from measures.models import Assessment
    from records import services as record_services
    from records.models import CareTeamMembership, Client, ClientGroupObjectPermission, Entry

    rng = random.Random(10)
    now = timezone.now()
    with transaction.atomic():
        centre = record_services.create_organization(name=CENTRE, sector="mental_health")
        practice = record_services.create_organization(name=PRACTICE, sector="primary_care")
        reader = record_services.create_provider(
            username="bench_reader",
            password=None,
            full_name="Bench Reader",
            organization=centre,
            role="clinician",
        )
        colleague = record_services.create_provider(
            username="bench_colleague",
            password=None,
            full_name="Bench Colleague",
            organization=centre,
            role="care_coordinator",
        )
        doctor = record_services.create_provider(
            username="bench_doctor",
            password=None,
            full_name="Bench Doctor",
            organization=practice,
            role="clinician",
        )
        clients = Client.objects.bulk_create(
            [
                Client(
                    given_name=f"Given{i}",
                    family_name=f"Family{i:05d}",
                    birth_date=date(1970, 1, 1) + timedelta(days=i),
                    health_card_number=f"B{i:09d}",
                    health_card_normalized=f"B{i:09d}",
                )
                for i in range(n_clients)
            ],
            batch_size=2000,
        )
        permission = Permission.objects.get(codename="access_client")
        CareTeamMembership.objects.bulk_create(
            [
                CareTeamMembership(client=c, provider=p, organization_id=p.organization_id)
                for c in clients
                for p in (reader, colleague, doctor)
            ],
            batch_size=5000,
        )
        ClientGroupObjectPermission.objects.bulk_create(
            [
                ClientGroupObjectPermission(content_object=c, group=g, permission=permission)
                for c in clients
                for g in (centre.group, practice.group)
            ],
            batch_size=5000,
        )
        directives = [
            ConsentDirective(
                client=c,
                effect="permit" if i % 10 else "deny",
                grantee_sector="mental_health",
                recorded_by=doctor,
                valid_from=now - timedelta(days=400),
            )
            for i, c in enumerate(clients)
        ]
        ConsentDirective.objects.bulk_create(directives, batch_size=5000)
        ConsentDirectiveCategory.objects.bulk_create(
            [ConsentDirectiveCategory(directive=d, category="mental_health") for d in directives],
            batch_size=5000,
        )
        entries, assessments = [], []
        shapes = list(SHAPES.values())
        for i, c in enumerate(clients):
            scores = shapes[i % len(shapes)][-per_client:]
            stopped = i % len(shapes) == 3
            recent = i % len(shapes) == 4
            span = 40 if recent else 200
            last = 40 if stopped else rng.randint(1, 20)
            for k, score in enumerate(scores):
                days = last + (span - last) * (per_client - 1 - k) / max(1, per_client - 1)
                at = now - timedelta(days=days, minutes=rng.randint(0, 600))
                author = doctor if k % 4 == 1 else reader
                entry = Entry(
                    client=c,
                    category="mental_health",
                    kind="assessment",
                    title=PHQ9.title_for(score),
                    body="",
                    data={},
                    occurred_at=at,
                    created_at=at,
                    author=author,
                    organization_id=author.organization_id,
                )
                entries.append(entry)
                assessments.append(
                    Assessment(
                        entry=entry,
                        instrument="phq9",
                        answers=[min(3, max(0, score - 3 * j)) for j in range(9)],
                        score=score,
                        severity=PHQ9.band_of(score).severity,
                        administered_at=at,
                    )
                )
        Entry.objects.bulk_create(entries, batch_size=5000)
        Assessment.objects.bulk_create(assessments, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


PLAIN_SQL = """
WITH visible AS (
    SELECT e.client_id, e.id, e.created_at, a.score, a.administered_at
    FROM measures_assessment a
    JOIN records_entry e ON e.id = a.entry_id
    WHERE a.instrument = 'phq9'
      AND e.client_id IN (
          SELECT p.content_object_id FROM records_clientgroupobjectpermission p
          WHERE p.group_id = %(group)s AND p.permission_id = %(permission)s)
      AND (
          e.organization_id = %(organization)s
          OR (EXISTS (SELECT 1 FROM consent_consentdirectivecategory c
                      JOIN consent_consentdirective d ON d.id = c.directive_id
                      WHERE d.client_id = e.client_id AND c.category = e.category
                        AND d.effect = 'permit' AND d.revoked_at IS NULL
                        AND d.valid_from <= %(now)s
                        AND (d.expires_at IS NULL OR d.expires_at > %(now)s)
                        AND (d.grantee_organization_id = %(organization)s
                             OR d.grantee_sector = %(sector)s))
              AND NOT EXISTS (SELECT 1 FROM consent_consentdirectivecategory c
                      JOIN consent_consentdirective d ON d.id = c.directive_id
                      WHERE d.client_id = e.client_id AND c.category = e.category
                        AND d.effect = 'deny' AND d.revoked_at IS NULL
                        AND d.valid_from <= %(now)s
                        AND (d.expires_at IS NULL OR d.expires_at > %(now)s)
                        AND (d.grantee_organization_id = %(organization)s
                             OR d.grantee_sector = %(sector)s)))
          OR EXISTS (SELECT 1 FROM consent_emergencyaccess x
                     WHERE x.client_id = e.client_id AND x.provider_id = %(provider)s
                       AND x.granted_at <= %(now)s AND x.expires_at > %(now)s))
),
ranked AS (
    SELECT client_id, score, administered_at,
           first_value(score) OVER w AS baseline_score,
           first_value(administered_at) OVER w AS baseline_at,
           count(*) OVER (PARTITION BY client_id) AS n,
           row_number() OVER (PARTITION BY client_id
                              ORDER BY administered_at DESC, created_at DESC, id DESC) AS recency
    FROM visible
    WINDOW w AS (PARTITION BY client_id ORDER BY administered_at, created_at, id)
),
rows AS (
    SELECT client_id, baseline_score, baseline_at, score, administered_at, n,
           CASE WHEN n >= 2 AND score < 5 THEN 'remission'
                WHEN n >= 2 AND 2 * score <= baseline_score THEN 'response'
                WHEN administered_at < %(follow_up)s THEN 'no_follow_up'
                WHEN administered_at >= baseline_at + interval '56 days' THEN 'not_improving'
                ELSE 'in_treatment' END AS status
    FROM ranked WHERE recency = 1
)
SELECT r.client_id, c.given_name, c.family_name, r.baseline_score, r.baseline_at,
       r.score, r.administered_at, r.n, r.status
FROM rows r JOIN records_client c ON c.id = r.client_id
ORDER BY CASE r.status WHEN 'not_improving' THEN 0 WHEN 'no_follow_up' THEN 1
                       WHEN 'in_treatment' THEN 2 WHEN 'response' THEN 3 ELSE 4 END,
         r.administered_at, r.client_id
LIMIT 50
"""

# The same, with rule 3 as hashed sets (only the category these rows have):
# the fastest plain SQL for these rows, not a strawman.
PLAIN_SQL_HASHED = """
WITH visible AS (
    SELECT e.client_id, e.id, e.created_at, a.score, a.administered_at
    FROM measures_assessment a
    JOIN records_entry e ON e.id = a.entry_id
    WHERE a.instrument = 'phq9'
      AND e.client_id IN (
          SELECT p.content_object_id FROM records_clientgroupobjectpermission p
          WHERE p.group_id = %(group)s AND p.permission_id = %(permission)s)
      AND (
          e.organization_id = %(organization)s
          OR (e.category = 'mental_health'
              AND e.client_id IN (SELECT d.client_id FROM consent_consentdirectivecategory c
                      JOIN consent_consentdirective d ON d.id = c.directive_id
                      WHERE c.category = 'mental_health' AND d.effect = 'permit'
                        AND d.revoked_at IS NULL AND d.valid_from <= %(now)s
                        AND (d.expires_at IS NULL OR d.expires_at > %(now)s)
                        AND (d.grantee_organization_id = %(organization)s
                             OR d.grantee_sector = %(sector)s))
              AND NOT e.client_id IN (SELECT d.client_id FROM consent_consentdirectivecategory c
                      JOIN consent_consentdirective d ON d.id = c.directive_id
                      WHERE c.category = 'mental_health' AND d.effect = 'deny'
                        AND d.revoked_at IS NULL AND d.valid_from <= %(now)s
                        AND (d.expires_at IS NULL OR d.expires_at > %(now)s)
                        AND (d.grantee_organization_id = %(organization)s
                             OR d.grantee_sector = %(sector)s)))
          OR e.client_id IN (SELECT x.client_id FROM consent_emergencyaccess x
                     WHERE x.provider_id = %(provider)s
                       AND x.granted_at <= %(now)s AND x.expires_at > %(now)s))
),
ranked AS (
    SELECT client_id, score, administered_at,
           first_value(score) OVER w AS baseline_score,
           first_value(administered_at) OVER w AS baseline_at,
           count(*) OVER (PARTITION BY client_id) AS n,
           row_number() OVER (PARTITION BY client_id
                              ORDER BY administered_at DESC, created_at DESC, id DESC) AS recency
    FROM visible
    WINDOW w AS (PARTITION BY client_id ORDER BY administered_at, created_at, id)
),
rows AS (
    SELECT client_id, baseline_score, baseline_at, score, administered_at, n,
           CASE WHEN n >= 2 AND score < 5 THEN 'remission'
                WHEN n >= 2 AND 2 * score <= baseline_score THEN 'response'
                WHEN administered_at < %(follow_up)s THEN 'no_follow_up'
                WHEN administered_at >= baseline_at + interval '56 days' THEN 'not_improving'
                ELSE 'in_treatment' END AS status
    FROM ranked WHERE recency = 1
)
SELECT r.client_id, c.given_name, c.family_name, r.baseline_score, r.baseline_at,
       r.score, r.administered_at, r.n, r.status
FROM rows r JOIN records_client c ON c.id = r.client_id
ORDER BY CASE r.status WHEN 'not_improving' THEN 0 WHEN 'no_follow_up' THEN 1
                       WHEN 'in_treatment' THEN 2 WHEN 'response' THEN 3 ELSE 4 END,
         r.administered_at, r.client_id
LIMIT 50
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--per-client", type=int, default=8)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the bench data and build again"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.test import APIClient

    from measures.instruments import PHQ9
    from measures.selectors import FOLLOW_UP_WITHIN, registry
    from records.models import Client, Organization, Provider

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the budget is PostgreSQL's.")
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", verbosity=0)
    if args.rebuild or not Organization.objects.filter(name=CENTRE).exists():
        if Organization.objects.filter(name=CENTRE).exists():
            sys.exit(
                "--rebuild: drop and recreate the database first (clinical rows are PROTECTed)."
            )
        started = time.perf_counter()
        build(args.clients, args.per_client)
        took = time.perf_counter() - started
        print(f"built {args.clients} clients x {args.per_client} in {took:.0f} s")
    reader = Provider.objects.get(username="bench_reader")
    centre = reader.organization
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(codename="access_client")
    clients = Client.objects.filter(family_name__startswith="Family").count()
    print(f"{clients} clients; PostgreSQL {connection.cursor().connection.server_version}")

    def selector() -> list:
        return [row.client_id for row in registry(reader, PHQ9, limit=50).rows]

    def plain(sql: str = PLAIN_SQL) -> list:
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                # The same planner setting as the selector: the floor without JIT.
                "SET LOCAL jit = off; " + sql,
                {
                    "group": centre.group_id,
                    "permission": permission.pk,
                    "organization": centre.pk,
                    "sector": centre.sector,
                    "provider": reader.pk,
                    "now": now,
                    "follow_up": now - FOLLOW_UP_WITHIN,
                },
            )
            return [row[0] for row in cursor.fetchall()]

    api = APIClient()
    api.force_authenticate(reader)

    def through_the_api() -> list:
        response = api.get("/api/v1/registry/?instrument=phq9")
        assert response.status_code == 200, response.content
        return response.json()["results"]

    first = registry(reader, PHQ9, limit=50)
    assert selector() == [uuid.UUID(str(x)) for x in plain()], "not the same rows"
    assert plain() == plain(PLAIN_SQL_HASHED), "the two floors differ"
    print(f"summary {first.summary}; {first.total} rows in the registry")

    runs = {
        "selector": selector,
        "plain SQL": plain,
        "plain SQL, hashed": lambda: plain(PLAIN_SQL_HASHED),
        "API": through_the_api,
    }
    timings = {name: [] for name in runs}
    for run in runs.values():  # warm caches and plans
        run()
    for _ in range(args.runs):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            timings[name].append((time.perf_counter() - started) * 1000)
    floor = min(nearest_rank(timings[n], 0.5) for n in ("plain SQL", "plain SQL, hashed"))
    print(f"\n{'':<19}{'p50 ms':>8}{'p95 ms':>8}{'min ms':>8}{'p50 / floor':>13}")
    for name, values in timings.items():
        p50, p95 = nearest_rank(values, 0.5), nearest_rank(values, 0.95)
        print(f"{name:<19}{p50:8.1f}{p95:8.1f}{min(values):8.1f}{p50 / floor:12.2f}x")


if __name__ == "__main__":
    main()
