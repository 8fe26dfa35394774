"""Reads that issue 13 changed, each beside a floor: the plainest SQL for the same rows.

Not a test: a script that reports numbers for docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_h13_bench \\
    .venv/bin/python bench/daily_work_bench.py --entries 2000 --runs 200

1. **Timeline** (the client page's and the entry list's read): the first page
   of 50 newest versions a provider of another organization may see, and
   `withheld_count`, for a client with `--entries` entries of four
   organizations and eight categories, a tenth of them amended and one in
   twenty retracted, under a consent policy of permits and denies. Floor: the
   same 50 ids and the same count from one plain query each, given the
   visible (organization, category) pairs worked out beforehand in Python.
2. **Privacy desk**: a page of 25 emergency accesses waiting for review on an
   organization's clients, with what was read under each (`reads_under`).
   Floor: one plain join for the page and one for the reads.

Each figure: p50 / p95 over `--runs` runs, in milliseconds, after 10 warm-up runs.
"""

import argparse

# The project on the path, the timing, the emptied database, the world (this folder).
from common import clinician_per_sector, emptied_postgresql, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--grants", type=int, default=300)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    emptied_postgresql()

    from datetime import timedelta

    from consent.models import EmergencyAccess
    from consent.selectors import (
        emergency_review_queue,
        reads_under,
        visible_entries,
        withheld_count,
    )
    from consent.services import record_consent
    from core.audit import Action
    from core.models import AccessEvent
    from core.vocabulary import Category
    from records import services
    from records.models import Entry

    orgs, people = clinician_per_sector(["primary_care", "mental_health", "housing", "employment"])
    officer = services.create_provider(
        username="bench_officer",
        password=None,
        full_name="Officer",
        organization=orgs[0],
        role="privacy_officer",
    )
    client = services.register_client(
        provider=people[0],
        given_name="Bench",
        family_name="Client",
        birth_date=timezone.localdate() - timedelta(days=40 * 365),
    ).client
    for person in people[1:]:
        services.add_to_care_team(client, person)
    categories = Category.values
    record_consent(
        provider=people[0],
        client=client,
        effect="permit",
        grantee_sector="housing",
        categories=["housing", "social", "general_health"],
    )
    record_consent(
        provider=people[0],
        client=client,
        effect="deny",
        grantee_organization=orgs[2],
        categories=["general_health"],
    )
    now = timezone.now()
    rows = [
        Entry(
            client=client,
            category=categories[n % len(categories)],
            kind="note",
            title=f"Entry {n}",
            body="x" * 400,
            occurred_at=now - timedelta(minutes=n),
            created_at=now,
            author=people[n % 4],
            organization=orgs[n % 4],
        )
        for n in range(args.entries)
    ]
    Entry.objects.bulk_create(rows)
    author_of = {person.organization_id: person for person in people}
    for n, entry in enumerate(Entry.objects.filter(client=client).order_by("title")):
        if n % 10 == 0:
            services.amend_entry(
                provider=author_of[entry.organization_id],
                entry=entry,
                title=f"{entry.title} (amended)",
            )
        elif n % 20 == 1:
            services.retract_entry(
                provider=author_of[entry.organization_id], entry=entry, reason="In error."
            )
    viewer = people[2]  # housing: permitted housing/social/general, general denied by org

    def timeline():
        list(visible_entries(viewer, client)[:50].values_list("pk", flat=True))
        withheld_count(viewer, client)

    visible_pairs = [(orgs[2].pk, c) for c in categories] + [
        (org.pk, c) for org in orgs if org.pk != orgs[2].pk for c in ("housing", "social")
    ]
    pairs_sql = ",".join(f"({o}, '{c}')" for o, c in visible_pairs)

    def timeline_floor():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM records_entry WHERE client_id = %s AND superseded_at IS NULL"
                f" AND (organization_id, category) IN ({pairs_sql})"
                " ORDER BY occurred_at DESC, created_at DESC, id DESC LIMIT 50",
                [client.pk],
            )
            cursor.fetchall()
            cursor.execute(
                "SELECT count(*) FROM records_entry WHERE client_id = %s AND superseded_at IS NULL"
                f" AND (organization_id, category) NOT IN ({pairs_sql})",
                [client.pk],
            )
            cursor.fetchone()

    # Same rows from both: the floor is a floor for this answer.
    engine_ids = list(visible_entries(viewer, client)[:50].values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM records_entry WHERE client_id = %s AND superseded_at IS NULL"
            f" AND (organization_id, category) IN ({pairs_sql})"
            " ORDER BY occurred_at DESC, created_at DESC, id DESC LIMIT 50",
            [client.pk],
        )
        assert [row[0] for row in cursor.fetchall()] == engine_ids

    # The desk: grants on many clients of the officer's organization, reads under each.
    clients = [
        services.register_client(
            provider=people[0],
            given_name=f"C{n}",
            family_name="Desk",
            birth_date=timezone.localdate() - timedelta(days=30 * 365),
        ).client
        for n in range(args.grants // 3)
    ]
    for c in clients:
        services.add_to_care_team(c, people[1])
    grants = EmergencyAccess.objects.bulk_create(
        EmergencyAccess(
            client=clients[n % len(clients)],
            provider=people[1],
            organization=orgs[1],
            reason="x" * 30,
            granted_at=now - timedelta(hours=n + 5),
            expires_at=now - timedelta(hours=n + 1),
        )
        for n in range(args.grants)
    )
    AccessEvent.objects.bulk_create(
        AccessEvent(
            client_id=grant.client_id,
            actor=people[1],
            organization=orgs[1],
            action=Action.ENTRY_LIST.value,
            channel="web",
            emergency=True,
            at=grant.granted_at + timedelta(minutes=k),
        )
        for grant in grants
        for k in range(10)
    )

    def desk():
        page = list(emergency_review_queue(officer)[:25])
        reads_under(page)

    def desk_floor():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.id, e.client_id, e.provider_id, e.granted_at, e.expires_at"
                " FROM consent_emergencyaccess e"
                " JOIN records_clientgroupobjectpermission g ON g.content_object_id = e.client_id"
                " JOIN records_organization o ON o.group_id = g.group_id AND o.id = %s"
                " WHERE NOT EXISTS (SELECT 1 FROM consent_emergencyaccessreview r"
                "   WHERE r.emergency_access_id = e.id AND r.organization_id = %s)"
                " ORDER BY e.granted_at DESC, e.id DESC LIMIT 25",
                [orgs[0].pk, orgs[0].pk],
            )
            page = cursor.fetchall()
            cursor.execute(
                "SELECT a.id FROM core_accessevent a JOIN unnest(%s::uuid[], %s::int[],"
                " %s::timestamptz[], %s::timestamptz[]) AS g(id, provider, since, until)"
                " ON a.actor_id = g.provider AND a.at >= g.since AND a.at < g.until"
                " WHERE a.emergency AND a.client_id = ANY(%s::uuid[])",
                [
                    [str(r[0]) for r in page],
                    [r[2] for r in page],
                    [r[3] for r in page],
                    [r[4] for r in page],
                    [str(r[1]) for r in page],
                ],
            )
            cursor.fetchall()

    print(f"PostgreSQL {connection.pg_version}; {args.entries} entries, {args.grants} grants")
    for name, function in [
        ("timeline (engine)", timeline),
        ("timeline (floor)", timeline_floor),
        ("privacy desk (selectors)", desk),
        ("privacy desk (floor)", desk_floor),
    ]:
        p50, p95 = timed(function, args.runs)
        print(f"{name:<28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
