"""Routing queue benchmark: one Celery worker, a burst of referrals, a care team of 10.

Not a test: a script that reports numbers for docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_routing \\
    REDIS_URL=redis://127.0.0.1:6379/5 \\
    .venv/bin/python bench/routing_bench.py --referrals 200

What it does: migrates the database, builds a client whose care team has 10
providers (the referrer among them) and a receiving organization with 10 intake
workers, starts ONE worker (`celery -A carelink worker --pool=solo`) on a queue
of its own, then files a burst of referrals and accepts each one, as fast as
one process can. Every referral makes two events: `referral_received` (10
intake workers) and `referral_accepted` (the 10 on the care team but the
acting intake worker: the referrer and the other 9).

Reported:
- deliveries/s: notifications created per second of worker time, from the
  first event's commit to the last event's delivery;
- commit-to-inbox latency per event: `delivered_at - created_at` of the outbox
  row (delivered_at is stamped in the transaction that inserts the
  notifications, created_at just before the publishing transaction commits, so
  this slightly over-estimates), p50 / p95 / max.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date

# The project on the path, and the percentile (this folder).
from common import ROOT, nearest_rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=200)
    parser.add_argument("--team", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="file the whole burst before the worker starts: measures the worker alone",
    )
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL (and DATABASE_URL): the benchmark needs a real broker.")

    queue = f"carelink-bench-{uuid.uuid4().hex[:8]}"
    os.environ["CARELINK_TASK_QUEUE"] = queue

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections, connection
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from core.models import Notification, OutboxEvent
    from records import services as record_services
    from records.models import Client
    from referrals import services
    from referrals.models import Referral

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:6]
    practice = record_services.create_organization(
        name=f"Bench practice {run}", sector="primary_care"
    )
    centre = record_services.create_organization(name=f"Bench centre {run}", sector="mental_health")

    def provider(org, n: int, role: str):
        return record_services.create_provider(
            username=f"bench-{run}-{org.pk}-{n}",
            password=None,
            full_name=f"Bench {n}",
            organization=org,
            role=role,
        )

    referrer = provider(practice, 0, "clinician")
    client = record_services.register_client(
        provider=referrer, given_name="Bench", family_name=run, birth_date=date(1980, 1, 1)
    ).client
    for n in range(1, args.team):
        record_services.add_to_care_team(client, provider(practice, n, "care_coordinator"))
    intake = [provider(centre, n, "intake_worker") for n in range(args.team)]
    client = Client.objects.get(pk=client.pk)
    connection.close()

    log_path = ROOT / "bench" / f"worker-{run}.log"
    worker: subprocess.Popen | None = None

    def start_worker() -> subprocess.Popen:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/celery"), "-A", "carelink", "worker", "--pool=solo"]
            + ["-Q", queue, "--loglevel=WARNING", "--without-gossip", "--without-mingle"]
            + ["--without-heartbeat", "-n", f"{queue}@%h"]
            + os.environ.get("BENCH_WORKER_ARGS", "").split(),
            cwd=ROOT,
            env={**os.environ, "CARELINK_TASK_QUEUE": queue},
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(4)  # let the worker connect
        if process.poll() is not None:
            sys.exit(f"worker exited; see {log_path}")
        return process

    try:
        if not args.backlog:
            worker = start_worker()
        started = time.monotonic()
        referral_ids = []
        for n in range(args.referrals):
            referral = services.refer_client(
                provider=referrer,
                client=client,
                to_organization=centre,
                reason=f"Bench referral {n}",
                urgency="routine",
            )
            referral_ids.append(referral.pk)
        for referral_id in referral_ids:
            services.accept_referral(
                provider=intake[0], referral=Referral.objects.get(pk=referral_id)
            )
        published = time.monotonic() - started
        worker_started = None
        if args.backlog:
            worker_started = timezone.now()
            worker = start_worker()
        events = OutboxEvent.objects.filter(subject_id__in=referral_ids)
        expected = events.count()
        deadline = time.monotonic() + args.timeout
        while True:
            close_old_connections()
            if not events.filter(delivered_at=None).exists():
                break
            if time.monotonic() > deadline:
                sys.exit(f"timed out; {events.filter(delivered_at=None).count()} undelivered")
            time.sleep(0.2)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)

    span = events.aggregate(first=Min("created_at"), last=Max("delivered_at"))
    seconds = (span["last"] - (worker_started or span["first"])).total_seconds()
    notifications = Notification.objects.filter(event__in=events)
    delivered = notifications.count()
    per_event = set(
        notifications.values("event").annotate(n=Count("id")).values_list("n", flat=True)
    )
    latencies = [
        (delivered_at - created_at).total_seconds()
        for created_at, delivered_at in events.values_list("created_at", "delivered_at")
    ]
    engine = connection.vendor
    mode = "backlog (burst filed before the worker started)" if args.backlog else "live"
    print(f"database: {engine}; one worker (--pool=solo); mode: {mode}")
    print(f"referrals: {args.referrals}; events: {expected}; notifications: {delivered}")
    print(f"notifications per event: {sorted(per_event)}")
    print(f"publishing took {published:.2f} s ({expected / published:.0f} events/s)")
    print(f"deliveries/s: {delivered / seconds:.0f} (over {seconds:.2f} s)")
    print(
        "commit-to-inbox latency: "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {nearest_rank(latencies, 0.95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    if not os.environ.get("BENCH_KEEP_LOG"):
        log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
