"""The reads a province makes most, through HTTP, each beside its floor: the
plainest hand-written SQL returning the same page, count and withheld count
with the same gate and consent filter (docs/performance.md, "Province scale").

Not a test: a script that prints one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_province \\
    .venv/bin/python manage.py seed_province --clients 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carelink_province \\
    .venv/bin/python bench/reads.py --runs 40

It starts gunicorn (one worker, one thread: requests one after another, as the
table measures) on the seeded database with DEBUG off, signs the measured
users in (token for the API, the sign-in form for the dashboard), warms each
read, then times every read and its floor in turn, round after round, `--runs`
rounds (drift over the run falls on every read alike).

A second table says what any code must take for each read besides its floor:
its own access events, written and committed as the app writes them (into a
scratch copy of the audit table, dropped at the end), and the plainest signed-in
request through the same server. Where those two alone leave less than the
floor's own time under a target, no rewrite of the read's Python meets it
without SQL faster than the floor's.
"""

import argparse
import functools
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlparse

import psycopg2

# The project's root, and the percentile (this folder).
from common import ROOT, nearest_rank, wait_figures

PASSWORD = "carelink-province"


@dataclass
class Read:
    name: str
    browser: "Browser"
    path: str
    who: dict
    floor: Callable[[], object]
    # Held to "within 10 ms of the floor" too (the short reads: fixed cost).
    fixed: bool = False
    # How many access events one request writes (counted before the timed runs).
    audited: int = 0

    def http(self) -> int:
        return self.browser.get(self.path)

    def plainest(self) -> int:
        """The cheapest request the same caller can make: signed in, one row."""
        return self.browser.get("/api/v1/me/")


def load_average() -> str:
    """The machine is shared: say how busy it was, beside the numbers."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def yes(ok: bool) -> str:
    return "yes" if ok else "no"


class Server:
    def __init__(self, database_url: str, port: int) -> None:
        self.port = port
        self.static = tempfile.mkdtemp(prefix="carelink-bench-static-")
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "carelink-benchmark-only",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_STATIC_ROOT": self.static,
            "CARELINK_REQUIRE_2FA": "false",
            "CARELINK_AXES_ENABLED": "false",
            "CARELINK_SIGN_IN_FAILURES_PER_ADDRESS": "0",
            "EMAIL_URL": "dummymail://",
        }
        self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        python = str(ROOT / ".venv" / "bin" / "python")
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "carelink.wsgi:application"]
            + ["--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "1"]
            + ["--limit-request-line", "0", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.connection().request("GET", "/accounts/login/")
                return
            except OSError:
                time.sleep(0.3)
        sys.exit("gunicorn did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)


class Browser:
    """One keep-alive connection, as a client would hold it."""

    def __init__(self, server: Server, headers: dict[str, str] | None = None) -> None:
        self.connection = server.connection()
        self.headers = headers or {}
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, **headers: str):
        sent = {**self.headers, **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def get(self, path: str) -> int:
        status, data = self.request("GET", path)
        if status != 200:
            sys.exit(f"GET {path}: {status} {data[:300]!r}")
        return len(data)


def token_for(server: Server, username: str) -> Browser:
    browser = Browser(server)
    status, data = browser.request(
        "POST",
        "/api/v1/auth/token/",
        json.dumps({"username": username, "password": PASSWORD}),
        **{"Content-Type": "application/json"},
    )
    if status != 200:
        sys.exit(f"token for {username}: {status} {data[:300]!r}")
    browser.headers["Authorization"] = f"Token {json.loads(data)['token']}"
    return browser


def session_for(server: Server, username: str) -> Browser:
    browser = Browser(server)
    status, page = browser.request("GET", "/accounts/login/")
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    status, _ = browser.request(
        "POST",
        "/accounts/login/",
        urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf}),
        **{"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/"},
    )
    if status != 302:
        sys.exit(f"sign-in of {username}: {status}")
    return browser


# --- the floors: the plainest SQL for the same rows -------------------------------------

GATE = """
    SELECT p.content_object_id FROM records_clientgroupobjectpermission p
    WHERE p.group_id = %(group)s AND p.permission_id = %(permission)s
"""

# Rules 2 and 3 for one reader's organization, as one predicate on entries `e`.
CONSENTED = """
    (e.organization_id = %(org)s OR (
        EXISTS (SELECT 1 FROM consent_consentdirectivecategory c
                JOIN consent_consentdirective d ON d.id = c.directive_id
                WHERE d.client_id = e.client_id AND c.category = e.category
                  AND d.effect = 'permit' AND d.revoked_at IS NULL AND d.valid_from <= now()
                  AND (d.expires_at IS NULL OR d.expires_at > now())
                  AND (d.grantee_organization_id = %(org)s OR d.grantee_sector = %(sector)s))
        AND NOT EXISTS (SELECT 1 FROM consent_consentdirectivecategory c
                JOIN consent_consentdirective d ON d.id = c.directive_id
                WHERE d.client_id = e.client_id AND c.category = e.category
                  AND d.effect = 'deny' AND d.revoked_at IS NULL AND d.valid_from <= now()
                  AND (d.expires_at IS NULL OR d.expires_at > now())
                  AND (d.grantee_organization_id = %(org)s OR d.grantee_sector = %(sector)s))))
"""


def floor_inbox(cursor, who: dict) -> None:
    visible = f"""
        FROM core_notification n
        WHERE n.recipient_id = %(user)s AND n.read_at IS NULL
          AND (n.party_organization_id = %(org)s OR n.client_id IN ({GATE}))
    """
    cursor.execute(f"SELECT count(*) {visible}", who)
    cursor.fetchall()
    cursor.execute(
        "SELECT n.id, n.kind, n.created_at, c.given_name, c.family_name, e.detail "
        + visible.replace(
            "FROM core_notification n",
            "FROM core_notification n JOIN records_client c ON c.id = n.client_id "
            "JOIN core_outboxevent e ON e.id = n.event_id",
            1,
        )
        + " "
        "ORDER BY n.created_at DESC, n.id DESC LIMIT 50",
        who,
    )
    cursor.fetchall()


def floor_dashboard(cursor, who: dict) -> None:
    """The dashboard's reads: ten unread, the unread count, the caseload head,
    the intake queue head. The queue's urgency rank is written as the intake
    queue's index writes it (`referral_intake_queue`): as a `CASE urgency
    WHEN …` PostgreSQL does not match it to the index, and sorted every
    waiting referral of the organization instead (8–24 ms against about 1)."""
    floor_inbox(cursor, who)
    cursor.execute(
        f"""SELECT c.id, c.given_name, c.family_name FROM records_client c
            WHERE c.id IN ({GATE}) AND EXISTS (
                SELECT 1 FROM records_careteammembership m WHERE m.client_id = c.id
                AND m.provider_id = %(user)s AND m.ended_at IS NULL)
            ORDER BY c.family_name, c.given_name, c.id LIMIT 51""",
        who,
    )
    cursor.fetchall()
    cursor.execute(
        """SELECT r.id, c.given_name, c.family_name, f.name FROM referrals_referral r
           JOIN records_client c ON c.id = r.client_id
           JOIN records_organization f ON f.id = r.from_organization_id
           WHERE r.to_organization_id = %(org)s AND r.status = 'sent'
           ORDER BY CASE WHEN r.urgency = 'emergent' THEN 0 WHEN r.urgency = 'urgent' THEN 1
                         ELSE 2 END,
                    r.created_at, r.id LIMIT 51""",
        who,
    )
    cursor.fetchall()


def floor_referrals(cursor, who: dict) -> None:
    where = "WHERE r.from_organization_id = %(org)s OR r.to_organization_id = %(org)s"
    cursor.execute(f"SELECT count(*) FROM referrals_referral r {where}", who)
    cursor.fetchall()
    cursor.execute(
        f"""SELECT r.*, c.given_name, c.family_name, c.birth_date, f.name, t.name
            FROM referrals_referral r JOIN records_client c ON c.id = r.client_id
            JOIN records_organization f ON f.id = r.from_organization_id
            JOIN records_organization t ON t.id = r.to_organization_id
            {where} ORDER BY r.created_at DESC, r.id DESC LIMIT 50""",
        who,
    )
    cursor.fetchall()


def floor_search(cursor, who: dict) -> None:
    """Every word anywhere in a name, or in the health card, among the caller's
    clients; in name order. Written as the trigram indexes serve it (an upper-
    cased pattern) and with an order no index can produce, which is what lets
    PostgreSQL take the caller's clients and the matches first; the plain
    `ORDER BY family_name, given_name` walks the name index through the whole
    province instead (docs/performance.md)."""
    where = (
        f"FROM records_client c WHERE c.id IN ({GATE}) AND (upper(c.given_name) LIKE %(q)s "
        "OR upper(c.family_name) LIKE %(q)s OR c.health_card_normalized LIKE %(card)s)"
    )
    cursor.execute(f"SELECT count(*) {where}", who)
    cursor.fetchall()
    cursor.execute(
        f"SELECT c.* {where} ORDER BY c.family_name NULLS FIRST, c.given_name NULLS FIRST, c.id "
        "LIMIT 50",
        who,
    )
    cursor.fetchall()


def floor_client_list(cursor, who: dict) -> None:
    """The caller's clients in name order, with their count: the list without
    words (not in the table as filed; added with change 32)."""
    where = f"FROM records_client c WHERE c.id IN ({GATE})"
    cursor.execute(f"SELECT count(*) {where}", who)
    cursor.fetchall()
    cursor.execute(f"SELECT c.* {where} ORDER BY c.family_name, c.given_name, c.id LIMIT 50", who)
    cursor.fetchall()


JOINED = (
    "JOIN records_provider a ON a.id = e.author_id "
    "JOIN records_organization o ON o.id = e.organization_id"
)


def floor_entries(cursor, who: dict) -> None:
    base = "FROM records_entry e WHERE e.client_id = %(client)s AND e.superseded_at IS NULL"
    cursor.execute(f"SELECT count(*) FILTER (WHERE NOT {CONSENTED}) {base}", who)
    cursor.fetchall()
    cursor.execute(f"SELECT count(*) {base} AND {CONSENTED}", who)
    cursor.fetchall()
    cursor.execute(
        f"""SELECT e.*, a.full_name, o.name, o.sector {base.replace("WHERE", JOINED + " WHERE")}
            AND {CONSENTED} ORDER BY e.occurred_at DESC, e.created_at DESC, e.id DESC LIMIT 50""",
        who,
    )
    cursor.fetchall()


def floor_access_log(cursor, who: dict) -> None:
    cursor.execute("SELECT count(*) FROM core_accessevent WHERE client_id = %(client)s", who)
    cursor.fetchall()
    cursor.execute(
        """SELECT a.*, p.full_name, o.name FROM core_accessevent a
           JOIN records_provider p ON p.id = a.actor_id
           LEFT JOIN records_organization o ON o.id = a.organization_id
           WHERE a.client_id = %(client)s ORDER BY a.at DESC, a.id DESC LIMIT 50""",
        who,
    )
    cursor.fetchall()


def floor_services(cursor, who: dict) -> None:
    """`GET /api/v1/services/`: the first page of services in the directory's
    order with their organizations, the count, each one's wait and what
    clients said of it (the portal's survey)."""
    cursor.execute("SELECT count(*) FROM records_service")
    cursor.fetchall()
    cursor.execute(
        """SELECT s.*, o.name, o.sector FROM records_service s
           JOIN records_organization o ON o.id = s.organization_id
           ORDER BY o.name, s.name, s.id LIMIT 50"""
    )
    page = [row[0] for row in cursor.fetchall()]
    cursor.execute(wait_figures("service_id", "service_id = ANY(%(page)s::uuid[])"), {"page": page})
    cursor.fetchall()
    cursor.execute(
        """SELECT r.service_id, count(*), count(*) FILTER (WHERE a.repeated_story),
                  sum(a.kept_informed), sum(a.overall)
           FROM portal_experienceanswer a JOIN referrals_referral r ON r.id = a.referral_id
           WHERE r.service_id = ANY(%(page)s::uuid[]) GROUP BY r.service_id""",
        {"page": page},
    )
    cursor.fetchall()


def floor_organizations(cursor, who: dict) -> None:
    """`GET /api/v1/organizations/`: the first page of organizations by name,
    the count, and each one's wait over every referral to it."""
    cursor.execute("SELECT count(*) FROM records_organization")
    cursor.fetchall()
    cursor.execute("SELECT o.* FROM records_organization o ORDER BY o.name, o.id LIMIT 50")
    page = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        wait_figures("to_organization_id", "to_organization_id = ANY(%(page)s::bigint[])"),
        {"page": page},
    )
    cursor.fetchall()


# --- the measured users ---------------------------------------------------------------------


# --- what a read must do besides its floor ----------------------------------------------

SCRATCH = "bench_access_bound"


class AuditWrite:
    """A read's own access events, written as the app writes them (one `INSERT
    … SELECT … FROM unnest`, committed: core/audit.py) into a scratch copy of
    the access-event table with its indexes and foreign keys, dropped at the
    end, so the real audit holds only reads that happened.

    The floor returns rows; it writes nothing. Every read of a record writes
    its access events and commits them before it answers, so this statement
    belongs to the least any code can take for the read (docs/performance.md,
    "What any code must take")."""

    KEYS = (
        ("actor_id", "records_provider"),
        ("client_id", "records_client"),
        ("organization_id", "records_organization"),
    )

    def __init__(self, cursor) -> None:
        self.cursor = cursor
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        cursor.execute(f"CREATE TABLE {SCRATCH} (LIKE core_accessevent INCLUDING ALL)")
        for column, table in self.KEYS:
            cursor.execute(
                f"ALTER TABLE {SCRATCH} ADD FOREIGN KEY ({column}) REFERENCES {table} (id) "
                "DEFERRABLE INITIALLY DEFERRED"
            )
        cursor.execute("SELECT id FROM records_client ORDER BY id LIMIT 500")
        self.clients = [row[0] for row in cursor.fetchall()]

    def events(self, actor: int) -> int:
        """The actor's access events in the real audit (an index range)."""
        self.cursor.execute("SELECT count(*) FROM core_accessevent WHERE actor_id = %s", (actor,))
        return self.cursor.fetchone()[0]

    def write(self, who: dict, rows: int) -> None:
        if rows:
            self.cursor.execute(
                f"INSERT INTO {SCRATCH} (id, client_id, emergency, actor_id, organization_id, "
                "by_client, action, channel, at) SELECT gen_random_uuid(), rows.client, "
                "rows.emergency, %s::bigint, %s::bigint, false, 'bench'::varchar(64), "
                "'api'::varchar(16), now() FROM unnest(%s::uuid[], %s::boolean[]) "
                "AS rows (client, emergency)",
                (who["user"], who["org"], self.clients[:rows], [False] * rows),
            )

    def drop(self) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")


def measured(cursor) -> dict[str, dict]:
    def one(sql: str, params: tuple = ()) -> tuple:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            sys.exit(f"the seeded database has no row for: {sql}")
        return row

    (permission,) = one(
        "SELECT p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id "
        "WHERE p.codename = 'access_client' AND t.app_label = 'records'"
    )

    def person(provider_id: int) -> dict:
        username, org, sector, group = one(
            "SELECT p.username, o.id, o.sector, o.group_id FROM records_provider p "
            "JOIN records_organization o ON o.id = p.organization_id WHERE p.id = %s",
            (provider_id,),
        )
        return {
            "username": username,
            "user": provider_id,
            "org": org,
            "sector": sector,
            "group": group,
            "permission": permission,
        }

    (inbox_user,) = one(
        "SELECT recipient_id FROM core_notification WHERE read_at IS NULL "
        "GROUP BY recipient_id ORDER BY count(*) DESC LIMIT 1"
    )
    (busiest,) = one(
        "SELECT provider_id FROM records_careteammembership WHERE ended_at IS NULL "
        "GROUP BY provider_id ORDER BY count(*) DESC, provider_id LIMIT 1"
    )
    long_client, long_count = one(
        "SELECT client_id, count(*) FROM records_entry GROUP BY client_id "
        "ORDER BY count(*) DESC LIMIT 1"
    )
    short_client, short_count = one(
        "SELECT client_id, count(*) FROM records_entry GROUP BY client_id "
        "HAVING count(*) BETWEEN 15 AND 25 ORDER BY client_id LIMIT 1"
    )

    def reader_of(client_id) -> int:
        """A treating member of the client's team from another organization than
        most of its entries' authors, so consent decides."""
        return one(
            "SELECT m.provider_id FROM records_careteammembership m "
            "JOIN records_provider p ON p.id = m.provider_id "
            "WHERE m.client_id = %s AND m.ended_at IS NULL ORDER BY m.id DESC LIMIT 1",
            (client_id,),
        )[0]

    logged_client, log_count = one(
        "SELECT client_id, count(*) FROM core_accessevent GROUP BY client_id "
        "ORDER BY count(*) DESC LIMIT 1"
    )
    (officer,) = one(
        "SELECT p.id FROM records_provider p WHERE p.role = 'privacy_officer' AND "
        "p.organization_id IN (SELECT organization_id FROM records_careteammembership "
        "WHERE client_id = %s AND ended_at IS NULL) ORDER BY p.id LIMIT 1",
        (logged_client,),
    )
    family = one("SELECT family_name FROM records_client WHERE id = %s", (long_client,))[0]
    term = family.split()[0]
    return {
        "inbox": person(inbox_user),
        "search": {
            **person(busiest),
            "q": f"%{term.upper()}%",
            "card": f"%{term.upper()}%",
            "term": term,
        },
        "long": {**person(reader_of(long_client)), "client": long_client, "n": long_count},
        "short": {**person(reader_of(short_client)), "client": short_client, "n": short_count},
        "log": {**person(officer), "client": logged_client, "n": log_count},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to the seeded PostgreSQL database.")
    url = urlparse(database_url)
    database = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, dbname=url.path[1:]
    )
    database.autocommit = True
    cursor = database.cursor()
    users = measured(cursor)
    # Each run adds to the audit (the access log's client gains a row per read);
    # as autovacuum would, mark the new pages all-visible, so the counts of the
    # log (the app's and the floor's) stay index-only from run to run.
    cursor.execute("VACUUM (ANALYZE) core_accessevent")
    server = Server(database_url, args.port)
    server.start()
    audit = AuditWrite(cursor)
    try:
        api = {key: token_for(server, who["username"]) for key, who in users.items()}
        web = session_for(server, users["inbox"]["username"])
        search = users["search"]
        reads = [
            Read(
                f"inbox ({users['inbox']['username']}, unread)",
                api["inbox"],
                "/api/v1/inbox/?unread=true",
                users["inbox"],
                lambda: floor_inbox(cursor, users["inbox"]),
            ),
            Read(
                "web dashboard, intake worker",
                web,
                "/",
                users["inbox"],
                lambda: floor_dashboard(cursor, users["inbox"]),
            ),
            Read(
                "referral list",
                api["inbox"],
                "/api/v1/referrals/",
                users["inbox"],
                lambda: floor_referrals(cursor, users["inbox"]),
            ),
            Read(
                f"client search ?q={search['term']}",
                api["search"],
                f"/api/v1/clients/?q={search['term']}",
                search,
                lambda: floor_search(cursor, search),
            ),
            Read(
                "client search ?q=Li (two letters)",
                api["search"],
                "/api/v1/clients/?q=Li",
                {**search, "q": "%LI%", "card": "%LI%"},
                lambda: floor_search(cursor, {**search, "q": "%LI%", "card": "%LI%"}),
            ),
            Read(
                "client list (no words)",
                api["search"],
                "/api/v1/clients/",
                search,
                lambda: floor_client_list(cursor, search),
            ),
            Read(
                f"entries, {users['long']['n']}-entry client",
                api["long"],
                f"/api/v1/clients/{users['long']['client']}/entries/",
                users["long"],
                lambda: floor_entries(cursor, users["long"]),
            ),
            Read(
                f"entries, {users['short']['n']}-entry client",
                api["short"],
                f"/api/v1/clients/{users['short']['client']}/entries/",
                users["short"],
                lambda: floor_entries(cursor, users["short"]),
                fixed=True,
            ),
            Read(
                "services with waits",
                api["long"],
                "/api/v1/services/",
                users["long"],
                lambda: floor_services(cursor, users["long"]),
            ),
            Read(
                "organizations with waits",
                api["long"],
                "/api/v1/organizations/",
                users["long"],
                lambda: floor_organizations(cursor, users["long"]),
            ),
            Read(
                f"access log ({users['log']['n']} events)",
                api["log"],
                f"/api/v1/clients/{users['log']['client']}/access-log/",
                users["log"],
                lambda: floor_access_log(cursor, users["log"]),
                fixed=True,
            ),
        ]
        print(f"{os.cpu_count()} CPUs; load average {load_average()} at the start")
        for read in reads:  # warm, and count what each read writes to the audit
            for _ in range(3):
                read.http()
                read.floor()
                read.plainest()
            before = audit.events(read.who["user"])
            read.http()
            read.audited = audit.events(read.who["user"]) - before
            audit.write(read.who, read.audited)
        # Round after round of every read and its floor in turn (A a B b C c …),
        # not one read's runs after another's: the machine's speed drifts over
        # minutes, and this way the drift falls on every read alike.
        times: dict[str, dict[str, list[float]]] = {
            read.name: {"app": [], "floor": [], "audit": [], "request": []} for read in reads
        }
        for _ in range(args.runs):
            for read in reads:
                for part, run in (
                    ("app", read.http),
                    ("floor", read.floor),
                    ("audit", functools.partial(audit.write, read.who, read.audited)),
                    ("request", read.plainest),
                ):
                    started = time.perf_counter()
                    run()
                    times[read.name][part].append((time.perf_counter() - started) * 1000)
        print(
            f"{'read':<34} {'app p50':>8} {'p95':>7} {'min':>6} {'floor p50':>10} {'p95':>7} "
            f"{'min':>6} {'app/floor':>9} {'over':>6}  {'2x':<6} {'p95<100':<7} {'+10 ms':<6}"
        )
        for read in reads:
            app, floors = times[read.name]["app"], times[read.name]["floor"]
            a50, f50 = statistics.median(app), statistics.median(floors)
            a95 = nearest_rank(app, 0.95)
            # The targets, each on its own: 2x the floor at p50, 100 ms at p95,
            # and for the short reads (a few ms of SQL) within 10 ms of the
            # floor at p50 ("-" where a read is not held to it).
            print(
                f"{read.name:<34} {a50:8.1f} {a95:7.1f} {min(app):6.1f} "
                f"{f50:10.1f} {nearest_rank(floors, 0.95):7.1f} {min(floors):6.1f} "
                f"{a50 / f50:8.1f}× {a50 - f50:6.1f}  {verdict(a50 <= 2 * f50):<6} "
                f"{verdict(a95 <= 100):<7} {verdict(a50 - f50 <= 10) if read.fixed else '-':<6}"
            )
        # What any code in this stack must do for each read besides its SQL: write
        # and commit its access events, and serve a signed-in request. "left" is
        # what those leave of 2x the floor for the read's SQL and its own Python:
        # where it is less than the floor, 2x needs SQL faster than the floor's
        # (and none where it is below zero), whatever the Python.
        print()
        print(
            "What any code must do besides its SQL (p50, ms): write and commit the read's "
            "access events\n(audit), and serve the plainest signed-in request (GET "
            "/api/v1/me/, request); left = 2x floor - audit - request."
        )
        print(
            f"{'read':<34} {'floor':>6} {'audit':>6} {'rows':>5} {'request':>8} {'left':>6} "
            f"{'app':>6}  {'2x possible':<24} {'+10 possible':<12}"
        )
        for read in reads:
            f50, w50, r50, a50 = (
                statistics.median(times[read.name][part])
                for part in ("floor", "audit", "request", "app")
            )
            left = 2 * f50 - w50 - r50
            if left >= f50:
                possible = "yes"
            elif left > 0:
                possible = f"only with SQL <= {left:.1f} ms"
            else:
                possible = "no"
            print(
                f"{read.name:<34} {f50:6.1f} {w50:6.1f} {read.audited:5d} {r50:8.1f} "
                f"{left:6.1f} {a50:6.1f}  {possible:<24} "
                f"{yes(w50 + r50 <= 10) if read.fixed else '-':<12}"
            )
        print(f"load average {load_average()} at the end (1, 5 and 15 minutes)")
    finally:
        audit.drop()
        server.stop()


if __name__ == "__main__":
    main()
