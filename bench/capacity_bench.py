"""Capacity benchmark: the services list with waits and one service's 26-week
history, against the plainest SQL for the same figures, on PostgreSQL.

Not a test: a script that reports numbers for docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_capacity_bench \\
    .venv/bin/python bench/capacity_bench.py --runs 40

It migrates the database and, once (a second run reuses it), writes 100
organizations with 2 services each and 500,000 referrals spread over two
years (every path of the transition table; the last weeks' still waiting),
in one INSERT … SELECT. Then, warm, it times per request:

- `GET /api/v1/services/` (a page of 50 services, the default) through
  Django's test client: authentication, the view, both wait queries,
  serialization, JSON;
- the same page's figures by the plainest SQL: one grouped query with
  FILTERs and percentile_disc over those services' referrals;
- `GET /api/v1/services/{id}/wait-history/` (26 weeks) and its plainest SQL
  (a correlated subquery per week and figure over generate_series).
"""

import argparse
import os
import statistics
import sys
from datetime import date

# The project on the path, the percentile and the timing (this folder).
from common import nearest_rank, samples, wait_figures

os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

ORGANIZATIONS, SERVICES_EACH, REFERRALS = 100, 2, 500_000

# The first page of services in the directory's order, and their figures.
PLAIN_LIST = wait_figures(
    "service_id",
    """service_id IN (
        SELECT s.id FROM records_service s JOIN records_organization o ON o.id = s.organization_id
        ORDER BY o.name, s.name, s.id LIMIT 50)""",
)

PLAIN_HISTORY = """
WITH weeks AS (
    SELECT ws, LEAST(ws + interval '1 week', now()) AS we FROM generate_series(
        date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '25 weeks',
        date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        interval '1 week') AS ws
), r AS (
    SELECT created_at, stopped_waiting_at,
           CASE WHEN COALESCE(appointment_at, completed_at) IS NOT NULL THEN
             GREATEST(FLOOR(EXTRACT(EPOCH FROM COALESCE(appointment_at, completed_at)
                                    - created_at) / 86400), 0)
           END AS wait_days
    FROM referrals_referral WHERE service_id = %(service)s
)
SELECT ws,
  (SELECT count(*) FROM r WHERE created_at >= ws AND created_at < we),
  (SELECT count(*) FROM r WHERE stopped_waiting_at >= ws AND stopped_waiting_at < we),
  (SELECT count(*) FROM r WHERE created_at < we
     AND (stopped_waiting_at IS NULL OR stopped_waiting_at >= we)),
  (SELECT CASE WHEN count(*) >= 3 THEN percentile_disc(0.5) WITHIN GROUP (ORDER BY wait_days) END
     FROM r WHERE stopped_waiting_at >= ws AND stopped_waiting_at < we AND wait_days IS NOT NULL)
FROM weeks ORDER BY ws
"""

FILL_REFERRALS = """
INSERT INTO referrals_referral (
    id, client_id, from_organization_id, to_organization_id, service_id, referred_by_id,
    reason, urgency, status, created_at, accepted_at, appointment_at, completed_at,
    declined_at, decline_reason, cancelled_at, cancel_reason, stopped_waiting_at)
SELECT gen_random_uuid(), %(client)s, %(from_org)s, s.organization_id, s.id, %(referrer)s,
    'Benchmark referral', 'routine', x.status, x.created,
    CASE WHEN x.status NOT IN ('sent', 'declined') THEN x.created END,
    CASE WHEN x.status IN ('scheduled', 'completed') THEN x.stop + x.appt END,
    CASE WHEN x.status = 'completed' THEN x.stop + x.appt END,
    CASE WHEN x.status = 'declined' THEN x.stop END, '',
    CASE WHEN x.status = 'cancelled' THEN x.stop END, '',
    CASE WHEN x.status NOT IN ('sent', 'accepted') THEN x.stop END
FROM (
    SELECT i, created, stop, appt,
        CASE WHEN stop > now() THEN CASE WHEN u < 0.4 THEN 'sent' ELSE 'accepted' END
             WHEN kind < 0.1 THEN 'declined'
             WHEN kind < 0.17 THEN 'cancelled'
             WHEN stop + appt < now() THEN 'completed'
             ELSE 'scheduled' END AS status
    FROM (
        SELECT i, now() - random() * interval '730 days' AS created, random() AS u,
               random() AS kind, random() * interval '14 days' AS appt,
               random() * random() * interval '60 days' AS delay
        FROM generate_series(1, %(n)s) AS i
    ) base, LATERAL (SELECT base.created + base.delay AS stop) stops
) x
JOIN (
    SELECT id, organization_id, row_number() OVER (ORDER BY id) - 1 AS n FROM records_service
) s ON s.n = x.i %% %(services)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from capacity import selectors
    from records import services as record_services
    from records.models import Organization, Provider, Service
    from referrals.models import Referral

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the budget is PostgreSQL's.")
    call_command("migrate", verbosity=0)
    if not Service.objects.exists():
        print("writing 100 organizations, 200 services, 500,000 referrals …", flush=True)
        practice = record_services.create_organization(name="Bench practice", sector="primary_care")
        referrer = record_services.create_provider(
            username="bench-referrer",
            password=None,
            full_name="Bench",
            organization=practice,
            role="clinician",
        )
        client = record_services.register_client(
            provider=referrer, given_name="Bench", family_name="Client", birth_date=date(1980, 1, 1)
        ).client
        for n in range(ORGANIZATIONS):
            organization = record_services.create_organization(
                name=f"Bench centre {n:03d}", sector="mental_health"
            )
            for k in range(SERVICES_EACH):
                Service.objects.create(organization=organization, name=f"Program {k}")
        with connection.cursor() as cursor:
            cursor.execute(
                FILL_REFERRALS,
                {
                    "client": str(client.pk),
                    "from_org": practice.pk,
                    "referrer": referrer.pk,
                    "n": REFERRALS,
                    "services": ORGANIZATIONS * SERVICES_EACH,
                },
            )
    with connection.cursor() as cursor:
        # As autovacuum would have by now: the visibility map lets the
        # covering index answer without visiting the table.
        cursor.execute("VACUUM ANALYZE referrals_referral")
    viewer = Provider.objects.get(username="bench-referrer")
    api = APIClient()
    api.force_authenticate(viewer)
    service = Service.objects.order_by("organization__name", "name").first()
    referrals = service.referrals.count()

    def plain(sql: str, params: dict | None = None):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params or {})
                return cursor.fetchall()

        return run

    def get(path: str):
        def run():
            response = api.get(path)
            assert response.status_code == 200, (response.status_code, response.content)
            return response

        return run

    page = list(Service.objects.select_related("organization")[:50])
    cases = [
        ("services list, API (50 services)", get("/api/v1/services/")),
        ("services list, selectors only", lambda: selectors.service_waits(page)),
        ("services list, plainest SQL", plain(PLAIN_LIST)),
        ("wait history, API (26 weeks)", get(f"/api/v1/services/{service.pk}/wait-history/")),
        ("wait history, selectors only", lambda: selectors.wait_history(service)),
        ("wait history, plainest SQL", plain(PLAIN_HISTORY, {"service": str(service.pk)})),
    ]
    total = Service.objects.count()
    print(
        f"PostgreSQL; {Organization.objects.count()} organizations, {total} services, "
        f"{Referral.objects.count()} referrals; one service has {referrals}; "
        f"{args.runs} warm runs each"
    )
    print(f"{'':38} {'p50 ms':>8} {'p95 ms':>8}")
    for name, fn in cases:
        times = samples(fn, args.runs, warm=1)
        print(f"{name:38} {statistics.median(times):8.1f} {nearest_rank(times, 0.95):8.1f}")


if __name__ == "__main__":
    main()
