"""FHIR `Patient/$everything` beside the REST entries list and a plain-SQL floor.

Not a test: a script that reports numbers for docs/performance.md ("FHIR").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_fhir_bench \\
    .venv/bin/python bench/fhir_bench.py --entries 500 --runs 200

The database is emptied. One client with `--entries` entries written by
three organizations over the eight categories (a tenth of them PHQ-9 or GAD-7
assessments, a tenth amended, one in twenty retracted), a permit and a deny,
four referrals. The reader is a clinician of the mental-health organization,
who may see about half the entries (the rest withheld). Every request goes
through the whole Django stack in process (middleware, token authentication,
the audit row), with a real knox token; no network.

1. **FHIR $everything**: the Bundle with every resource the reader may see.
2. **FHIR $everything, built**: the same Bundle from the selector and the
   mappings, serialized, without the HTTP stack (what the mapping costs).
3. **REST entries, first page**: `GET /api/v1/clients/{id}/entries/` (50).
4. **REST entries, all**: every page of `?page_size=100`, the same entries
   $everything carries as DocumentReferences and Observations.
5. **Floor**: the visible entries' rows with their author and organization
   names, from one plain query given the visible (organization, category)
   pairs worked out beforehand, and a count of the rest.

Each figure: p50 / p95 over `--runs` runs, in milliseconds, after 10 warm-up runs.
"""

import argparse
import json

# The project on the path, the timing, the emptied database, the world (this folder).
from common import clinician_per_sector, emptied_postgresql, timed

PASSWORD = "bench-password-not-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host is allowed
    emptied_postgresql()

    from datetime import timedelta

    from django.utils import timezone

    from consent.services import record_consent
    from core.vocabulary import Category
    from fhir_api.bundle import everything_bundle
    from fhir_api.selectors import patient_record
    from measures.services import record_assessment
    from records import services
    from records.models import Entry
    from referrals.services import refer_client

    orgs, people = clinician_per_sector(["primary_care", "mental_health", "employment"], PASSWORD)
    client = services.register_client(
        provider=people[0],
        given_name="Bench",
        family_name="Client",
        birth_date=timezone.localdate() - timedelta(days=40 * 365),
        health_card_number="1234567890",
    ).client
    for person in people[1:]:
        services.add_to_care_team(client, person)
    record_consent(
        provider=people[0],
        client=client,
        effect="permit",
        grantee_sector="mental_health",
        categories=["general_health", "mental_health", "medications", "housing", "social"],
    )
    record_consent(
        provider=people[0],
        client=client,
        effect="deny",
        grantee_sector="mental_health",
        categories=["medications"],
    )
    for n in range(4):
        refer_client(
            provider=people[n % 2],
            client=client,
            to_organization=orgs[(n % 2) + 1],
            reason=f"Referral {n}",
            urgency="routine",
        )
    now = timezone.now()
    categories = Category.values
    assessments = args.entries // 10
    Entry.objects.bulk_create(
        Entry(
            client=client,
            category=categories[n % len(categories)],
            kind="note",
            title=f"Entry {n}",
            body="x" * 400,
            data={"n": n} if n % 7 == 0 else {},
            occurred_at=now - timedelta(minutes=n),
            created_at=now,
            author=people[n % 3],
            organization=orgs[n % 3],
        )
        for n in range(args.entries - assessments)
    )
    for n in range(assessments):
        if n % 2:
            record_assessment(
                provider=people[n % 3], client=client, instrument="phq9", answers=[n % 4] * 9
            )
        else:
            record_assessment(
                provider=people[n % 3], client=client, instrument="gad7", answers=[n % 4] * 7
            )
    author_of = {person.organization_id: person for person in people}
    for n, entry in enumerate(Entry.objects.filter(client=client, kind="note").order_by("title")):
        if n % 10 == 0:
            services.amend_entry(
                provider=author_of[entry.organization_id],
                entry=entry,
                title=f"{entry.title} (amended)",
                body="y" * 400,
            )
        elif n % 20 == 1:
            services.retract_entry(
                provider=author_of[entry.organization_id], entry=entry, reason="In error."
            )
    reader = people[1]  # mental health: permits for five categories, medications denied

    http = HttpClient()
    token = http.post(
        "/api/v1/auth/token/",
        {"username": reader.username, "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    everything_path = f"/fhir/R4/Patient/{client.pk}/$everything"
    entries_path = f"/api/v1/clients/{client.pk}/entries/"

    def fhir_everything():
        response = http.get(everything_path, **auth)
        assert response.status_code == 200

    def fhir_built():
        record = patient_record(reader, client)
        json.dumps(everything_bundle(record, "http://bench/", lambda c: f"http://bench/{c.pk}"))

    def rest_first_page():
        assert http.get(entries_path, **auth).status_code == 200

    def rest_all_pages():
        url = f"{entries_path}?page_size=100"
        while url:
            page = http.get(url, **auth).json()
            url = page["next"]

    visible_pairs = [(orgs[1].pk, c) for c in categories] + [
        (org.pk, c)
        for org in (orgs[0], orgs[2])
        for c in ("general_health", "mental_health", "housing", "social")
    ]
    pairs_sql = ",".join(f"({o}, '{c}')" for o, c in visible_pairs)

    def floor_rows():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.id, e.category, e.kind, e.title, e.body, e.data, e.occurred_at,"
                " e.created_at, e.amends_id, e.retracted_at, p.full_name, o.name"
                " FROM records_entry e JOIN records_provider p ON p.id = e.author_id"
                " JOIN records_organization o ON o.id = e.organization_id"
                " WHERE e.client_id = %s AND e.superseded_at IS NULL"
                f" AND (e.organization_id, e.category) IN ({pairs_sql})"
                " ORDER BY e.occurred_at DESC, e.created_at DESC, e.id DESC",
                [client.pk],
            )
            rows = cursor.fetchall()
            cursor.execute(
                "SELECT count(*) FROM records_entry WHERE client_id = %s"
                f" AND superseded_at IS NULL AND (organization_id, category) NOT IN ({pairs_sql})",
                [client.pk],
            )
            cursor.fetchone()
            return rows

    # The floor returns the rows $everything carries: the same entries.
    bundle = http.get(everything_path, **auth).json()
    carried = {
        e["resource"]["id"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    } | {
        e["resource"]["identifier"][0]["value"].removeprefix("urn:uuid:")
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert carried == {str(row[0]) for row in floor_rows()}, "the floor must read the same rows"
    size = len(http.get(everything_path, **auth).content)

    print(
        f"PostgreSQL {connection.pg_version}; {args.entries} entries, "
        f"{len(carried)} carried to the reader, {len(bundle['entry'])} resources, "
        f"{size / 1024:.0f} KiB of JSON"
    )
    for name, function in [
        ("FHIR $everything (HTTP)", fhir_everything),
        ("FHIR $everything (built)", fhir_built),
        ("REST entries, first page", rest_first_page),
        ("REST entries, all pages", rest_all_pages),
        ("floor (plain SQL)", floor_rows),
    ]:
        p50, p95 = timed(function, args.runs)
        print(f"{name:<28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
