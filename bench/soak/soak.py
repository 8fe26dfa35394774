"""Fault soak of the routing queue, through the public API.

Drives N referrals through their lifecycle (sent → accepted → scheduled →
completed; some declined, some cancelled before or after acceptance) against a
real gunicorn on PostgreSQL, with a Celery worker on a throwaway Redis, while
the worker is killed with SIGKILL every few seconds (and restarted) and Redis
is restarted (its queue lost: nothing is persisted) a few times. Then it waits
for the notifications to drain and reads every inbox through the API, checking
each notification against the routing table (who receives each kind,
docs/soak.md): none lost, none twice, none unexpected.

    .venv/bin/python bench/soak/soak.py                 # 10,000 referrals
    .venv/bin/python bench/soak/soak.py --referrals 200 # a quick check

Needs PostgreSQL (SOAK_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
carelink_h14_soak — the database is dropped and created) and `redis-server` on
PATH (a private one on a free port is started; the shared Redis is never
touched). See docs/soak.md.
"""

import argparse
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PASSWORD = "soak-password-long-and-unusual"


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except OSError:
            pass
        time.sleep(step)
    raise SystemExit(f"soak: timed out after {timeout:.0f} s waiting for {what}")


# --- processes -----------------------------------------------------------------------------


class Process:
    """A child process in its own process group (killed as a whole, as a
    container would be), with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path) -> None:
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with self.log_path.open("ab") as out:
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


# --- the API ---------------------------------------------------------------------------------


class ApiError(Exception):
    pass


STATUS_LOCK = threading.Lock()  # the status counter is shared by every client thread


@dataclass
class Api:
    host: str
    port: int
    token: str | None = None
    statuses: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return conn

    def call(self, method: str, path: str, body: dict | None = None, expect: int = 200):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(3):
            try:
                conn = self._connection()
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                # A keep-alive connection the server had closed while idle: it read
                # nothing of this request, so sending it again on a new one is safe.
                self._local.conn = None
                if attempt == 2:
                    raise
        with STATUS_LOCK:
            self.statuses[response.status] += 1
        if response.status != expect:
            raise ApiError(f"{method} {path} → {response.status}: {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def as_(self, token: str) -> "Api":
        return Api(self.host, self.port, token, self.statuses)


def sign_in(api: Api, username: str) -> Api:
    body = api.call("POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    return api.as_(body["token"])


# --- the scenario ----------------------------------------------------------------------------

RECEIVED, ACCEPTED, SCHEDULED = "referral_received", "referral_accepted", "referral_scheduled"
DECLINED, CANCELLED, REPORT = "referral_declined", "referral_cancelled", "intake_report"

# Outcome mix: most referrals run the whole loop.
OUTCOMES = [("completed", 70), ("declined", 15), ("cancelled_after_accept", 10), ("cancelled", 5)]


@dataclass
class Cast:
    """Who plays: referring clinicians of a practice; a centre's intake workers
    and care coordinator (its triage group); each signed in with a token."""

    referrers: list[str]
    intake: list[str]
    coordinators: list[str]
    centre_id: int
    apis: dict[str, Api] = field(default_factory=dict)

    @property
    def everyone(self) -> list[str]:
        return self.referrers + self.intake + self.coordinators


def build_cast(admin: Api, referrers: int, intake: int) -> Cast:
    run = uuid.uuid4().hex[:6]
    practice = admin.call(
        "POST",
        "/api/v1/organizations/",
        {"name": f"Soak practice {run}", "sector": "primary_care"},
        expect=201,
    )
    centre = admin.call(
        "POST",
        "/api/v1/organizations/",
        {"name": f"Soak centre {run}", "sector": "mental_health"},
        expect=201,
    )

    def provider(username: str, organization: dict, role: str) -> str:
        admin.call(
            "POST",
            "/api/v1/providers/",
            {
                "username": username,
                "password": PASSWORD,
                "full_name": username,
                "organization": organization["id"],
                "role": role,
            },
            expect=201,
        )
        return username

    cast = Cast(
        referrers=[provider(f"ref{n}", practice, "clinician") for n in range(referrers)],
        intake=[provider(f"intake{n}", centre, "intake_worker") for n in range(intake)],
        coordinators=[provider("coord0", centre, "care_coordinator")],
        centre_id=centre["id"],
    )
    cast.apis = {u: sign_in(admin.as_(None), u) for u in cast.everyone}
    return cast


def run_lifecycle(n: int, cast: Cast, outcome: str) -> list[tuple[str, str, str]]:
    """One referral through its lifecycle; returns the notifications the routing
    table says it must raise, as (recipient, kind, referral id)."""
    referrer = cast.referrers[n % len(cast.referrers)]
    accepter = cast.intake[n % len(cast.intake)]
    scheduler = cast.intake[(n + 1) % len(cast.intake)]
    ref, acc, sch = cast.apis[referrer], cast.apis[accepter], cast.apis[scheduler]

    client = ref.call(
        "POST",
        "/api/v1/clients/",
        {
            "given_name": f"Soak{n}",
            "family_name": "Client",
            "birth_date": "1985-06-15",
            "health_card_number": f"SOAK{n:08d}",
        },
        expect=201,
    )
    referral = ref.call(
        "POST",
        "/api/v1/referrals/",
        {
            "client": client["id"],
            "to_organization": cast.centre_id,
            "urgency": "routine",
            "reason": f"Soak referral {n}",
        },
        expect=201,
    )
    rid = referral["id"]
    base = f"/api/v1/referrals/{rid}"
    # The care team: the referrer (who registered the client), then the accepter.
    expected = [(u, RECEIVED, rid) for u in cast.intake + cast.coordinators]
    if outcome == "declined":
        acc.call("POST", f"{base}/decline/", {"reason": "No capacity for this referral now."})
        return expected + [(referrer, DECLINED, rid)]
    if outcome == "cancelled":
        ref.call("POST", f"{base}/cancel/", {"reason": "The client moved away."})
        return expected  # the referrer is the care team, and the actor: nobody else
    acc.call("POST", f"{base}/accept/")
    expected.append((referrer, ACCEPTED, rid))
    if outcome == "cancelled_after_accept":
        ref.call("POST", f"{base}/cancel/", {"reason": "The client found another service."})
        return expected + [(accepter, CANCELLED, rid)]
    when = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    sch.call("POST", f"{base}/schedule/", {"appointment_at": when})
    # The scheduler is another intake worker: the accepter (on the care team) hears of it.
    expected += [(referrer, SCHEDULED, rid), (accepter, SCHEDULED, rid)]
    acc.call(
        "POST",
        f"{base}/complete/",
        {
            "report": {
                "title": f"Intake report {n}",
                "body": "Seen; weekly sessions.",
                "category": "mental_health",
            }
        },
    )
    return expected + [(referrer, REPORT, rid)]


def inbox_count(api: Api) -> int:
    return api.call("GET", "/api/v1/inbox/?page_size=1")["count"]


def read_inbox(username: str, api: Api) -> list[tuple[str, str, str]]:
    seen, path = [], "/api/v1/inbox/?page_size=100"
    while path:
        page = api.call("GET", path)
        seen += [(username, item["kind"], item.get("referral")) for item in page["results"]]
        nxt = page["next"]
        path = urlparse(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
    return seen


# --- faults ------------------------------------------------------------------------------------


class Faults(threading.Thread):
    """SIGKILL the worker every `kill_every` seconds (and start a new one); restart
    Redis at the given fractions of the run's progress."""

    def __init__(
        self,
        start_worker,
        redis: Process,
        redis_port: int,
        progress,
        kill_every: float,
        redis_at: list[float],
    ) -> None:
        super().__init__(daemon=True)
        self.start_worker, self.redis, self.redis_port = start_worker, redis, redis_port
        self.progress, self.kill_every, self.redis_at = progress, kill_every, list(redis_at)
        self.worker = start_worker()
        self.stopped = threading.Event()
        self.kills = 0
        self.redis_restarts = 0

    def run(self) -> None:
        next_kill = time.monotonic() + self.kill_every
        while not self.stopped.wait(0.2):
            if self.redis_at and self.progress() >= self.redis_at[0]:
                self.redis_at.pop(0)
                log("fault: restarting Redis (its queue is lost)")
                self.redis.stop()
                time.sleep(2)
                self.redis.start()
                wait_until(lambda: redis_ping(self.redis_port), 10, "redis")
                self.redis_restarts += 1
            if time.monotonic() >= next_kill:
                self.worker.kill()
                self.kills += 1
                self.worker = self.start_worker()
                next_kill = time.monotonic() + self.kill_every

    def stop(self) -> None:
        self.stopped.set()
        self.join()


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8, help="concurrent API clients")
    parser.add_argument("--kill-every", type=float, default=10, help="seconds between SIGKILLs")
    parser.add_argument("--redis-restarts", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--sweep-seconds", type=float, default=30, help="the outbox sweep")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the database and logs")
    args = parser.parse_args()

    database_url = os.environ.get(
        "SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carelink_h14_soak"
    )
    if not shutil.which("redis-server"):
        sys.exit("soak: redis-server is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="carelink-soak-"))
    redis_port, web_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    queue = f"carelink-soak-{uuid.uuid4().hex[:6]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CARELINK_", "DJANGO_"))},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CARELINK_TASK_QUEUE": queue,
        "CARELINK_OUTBOX_SWEEP_SECONDS": str(args.sweep_seconds),
        "CARELINK_REQUIRE_2FA": "false",  # an API-contract run
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "EMAIL_URL": "dummymail://",
        "PYTHONUNBUFFERED": "1",
    }
    log(f"soak: {args.referrals} referrals; logs in {workdir}")

    recreate_database(database_url)
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            *manage,
            "createsuperuser",
            "--noinput",
            "--username",
            "soak_admin",
            "--email",
            "soak@example.org",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )

    redis = Process(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        env,
        workdir,
    ).start()
    wait_until(lambda: redis_ping(redis_port), 10, "redis")
    web = Process(
        "web",
        [
            str(BIN / "gunicorn"),
            "carelink.wsgi:application",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            str(args.web_workers),
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        env,
        workdir,
    ).start()
    beat = Process(
        "beat",
        [
            str(BIN / "celery"),
            "-A",
            "carelink",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(workdir / "beat-schedule"),
        ],
        env,
        workdir,
    ).start()
    worker_numbers = itertools.count()

    def start_worker() -> Process:
        n = next(worker_numbers)
        return Process(
            f"worker-{n}",
            [
                str(BIN / "celery"),
                "-A",
                "carelink",
                "worker",
                "--concurrency",
                "2",
                "-Q",
                queue,
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"soak-{n}@%h",
            ],
            env,
            workdir,
        ).start()

    processes = [redis, web, beat]
    faults = None
    try:
        api = Api("127.0.0.1", web_port)
        wait_until(lambda: api_up(api), 60, "gunicorn")
        admin = sign_in(api, "soak_admin")
        cast = build_cast(admin, referrers=4, intake=3)
        rng = random.Random(args.seed)
        names, weights = zip(*OUTCOMES, strict=True)
        outcomes = rng.choices(names, weights=weights, k=args.referrals)

        done = Counter()
        faults = Faults(
            start_worker,
            redis,
            redis_port,
            lambda: done["n"] / args.referrals,
            args.kill_every,
            [(i + 1) / (args.redis_restarts + 1) for i in range(args.redis_restarts)],
        )
        faults.start()
        expected: list[tuple[str, str, str]] = []
        failures: list[str] = []
        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            futures = [
                pool.submit(run_lifecycle, n, cast, outcome) for n, outcome in enumerate(outcomes)
            ]
            for future in as_completed(futures):
                try:
                    expected += future.result()
                except (ApiError, OSError, http.client.HTTPException) as error:
                    failures.append(str(error))
                done["n"] += 1
                if done["n"] % 1000 == 0:
                    rate = done["n"] / (time.monotonic() - started)
                    log(f"{done['n']} referrals driven ({rate:.1f}/s), {faults.kills} kills")
        driven = time.monotonic() - started
        faults.stop()
        log(
            f"driven in {driven:.0f} s; {faults.kills} SIGKILLs, {faults.redis_restarts} "
            "Redis restarts; faults stop, the last worker stays up"
        )

        apis = cast.apis
        total = len(expected)
        drain_started = time.monotonic()

        def delivered() -> bool:
            return sum(inbox_count(apis[u]) for u in cast.everyone) >= total

        wait_until(delivered, args.drain_timeout, "the notifications to drain", step=1)
        drain = time.monotonic() - drain_started
        time.sleep(max(5.0, args.sweep_seconds + 5))  # a late duplicate would show by now
        seen = [item for u in cast.everyone for item in read_inbox(u, apis[u])]
        want, got = Counter(expected), Counter(seen)
        lost = sum((want - got).values())
        duplicates = sum(count - 1 for count in got.values() if count > 1)
        unexpected = sum((got - want).values()) - duplicates
        report = {
            "referrals": args.referrals,
            "outcomes": dict(Counter(outcomes)),
            "api_calls": sum(api.statuses.values()),
            "api_statuses": dict(sorted(api.statuses.items())),
            "api_5xx": sum(c for s, c in api.statuses.items() if s >= 500),
            "lifecycle_failures": len(failures),
            "driven_seconds": round(driven, 1),
            "worker_sigkills": faults.kills,
            "redis_restarts": faults.redis_restarts,
            "notifications_expected": total,
            "notifications_seen": sum(got.values()),
            "lost": lost,
            "duplicates": duplicates,
            "unexpected": unexpected,
            "drain_seconds_after_last_call": round(drain, 1),
            "sweep_seconds": args.sweep_seconds,
        }
        print(json.dumps(report, indent=2))
        for failure in failures[:10]:
            print("failure:", failure)
        ok = lost == 0 and duplicates == 0 and unexpected == 0 and not failures
        ok = ok and report["api_5xx"] == 0
        print("soak:", "PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)
    finally:
        if faults is not None:
            faults.stopped.set()
            faults.worker.stop()
        for process in reversed(processes):
            process.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def api_up(api: Api) -> bool:
    try:
        return api.call("GET", "/api/v1/me/", expect=401) is not None
    except (OSError, http.client.HTTPException, ApiError):
        api._local.conn = None
        return False


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not name.startswith("carelink_h14"):
        sys.exit("soak: SOAK_DATABASE_URL must name a database of its own (carelink_h14_*)")
    admin = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


if __name__ == "__main__":
    main()
