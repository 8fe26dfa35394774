"""The embedded default is a real deployment for a small clinic: several users at
once must never see an error. This runs the demo exactly as `make demo` does —
SQLite file, gunicorn with several workers and threads, tasks in-process — and
sends concurrent reads and audited writes at it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, method: str, path: str, token: str | None = None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()[:300]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("embedded")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'clinic.sqlite3'}",
        "DJANGO_SECRET_KEY": "embedded-sqlite-test",
        "DJANGO_DEBUG": "false",
        "CARELINK_AXES_ENABLED": "false",
        "CARELINK_REQUIRE_2FA": "false",  # as make demo's .env
        "EMAIL_URL": "dummymail://",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
    }
    env.pop("REDIS_URL", None)  # the embedded default: tasks in-process
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "load_demo"], env=env, check=True, cwd=ROOT, capture_output=True)
    # As `make demo` does: outside DEBUG a server refuses to start without it.
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    port = _free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "carelink.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            # As `make demo`: an over-long search reaches Django (bounded at 1 MB).
            "--limit-request-line",
            "0",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("gunicorn did not start")
    yield base
    server.terminate()
    server.wait(timeout=10)


def test_concurrent_providers_never_see_an_error(demo_server):
    base = demo_server
    tokens = {}
    for username in ("dr_lee", "intake_kim", "emp_jo", "privacy_pat"):
        status, body = _call(
            base,
            "POST",
            "/api/v1/auth/token/",
            body={"username": username, "password": "carelink-demo"},
        )
        assert status == 200, body
        tokens[username] = body["token"]
    status, body = _call(base, "GET", "/api/v1/clients/?q=Ana", tokens["dr_lee"])
    assert status == 200, body
    ana = body["results"][0]["id"]
    status, entries = _call(base, "GET", f"/api/v1/clients/{ana}/entries/", tokens["dr_lee"])
    entries_before = entries["count"] + entries["withheld_count"]
    status, log = _call(base, "GET", f"/api/v1/clients/{ana}/access-log/", tokens["privacy_pat"])
    log_before = log["count"]

    def reader(username: str, i: int):
        path = [
            f"/api/v1/clients/{ana}/entries/",
            f"/api/v1/clients/{ana}/",
            "/api/v1/clients/",
            f"/api/v1/clients/{ana}/care-team/",
        ][i % 4]
        return _call(base, "GET", path, tokens[username])

    def writer(username: str, i: int):
        return _call(
            base,
            "POST",
            f"/api/v1/clients/{ana}/entries/",
            tokens[username],
            {"category": "general_health", "kind": "note", "title": f"Note {i}", "body": "x" * 500},
        )

    jobs = []
    with ThreadPoolExecutor(max_workers=12) as pool:
        for i in range(240):
            username = ["dr_lee", "intake_kim", "emp_jo"][i % 3]
            work = writer if i % 4 == 0 else reader
            jobs.append((work.__name__, pool.submit(work, username, i)))
        results = [(kind, job.result()) for kind, job in jobs]

    failures = [(kind, status, body) for kind, (status, body) in results if status >= 300]
    assert failures == []
    writes = sum(1 for kind, _ in results if kind == "writer")
    assert writes == 60

    # Every write landed and every request was audited: nothing lost under contention.
    status, entries = _call(base, "GET", f"/api/v1/clients/{ana}/entries/", tokens["dr_lee"])
    assert status == 200, entries
    assert entries["count"] + entries["withheld_count"] == entries_before + writes
    status, log = _call(base, "GET", f"/api/v1/clients/{ana}/access-log/", tokens["privacy_pat"])
    assert status == 200, log
    # 240 requests, each one access event for Ana (a list of clients records one per client).
    assert log["count"] >= log_before + 240


def test_an_over_long_search_gets_the_apps_own_400_not_a_raw_414(demo_server):
    status, body = _call(
        demo_server,
        "POST",
        "/api/v1/auth/token/",
        body={"username": "dr_lee", "password": "carelink-demo"},
    )
    token = body["token"]
    status, body = _call(demo_server, "GET", "/api/v1/clients/?q=" + "a" * 6000, token)
    assert status == 400
    assert '"q"' in body
    # The page: the request reaches Django (the sign-in redirect), not a raw 414.
    request = urllib.request.Request(demo_server + "/clients/?q=" + "a" * 6000)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert "Sign in" in response.read().decode()
    except urllib.error.HTTPError as error:  # pragma: no cover - the failure to report
        pytest.fail(f"over-long search answered {error.code}")


def test_a_server_without_collected_static_files_refuses_to_start(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SECRET_KEY": "embedded-sqlite-test",
        "DJANGO_DEBUG": "false",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
    }
    started = subprocess.run(
        [sys.executable, "-c", "import carelink.wsgi"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "carelink.E001" in started.stderr
    assert "collectstatic" in started.stderr
    # `manage.py check` (and migrate) still pass before collectstatic: a fresh
    # clone migrates first.
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    started = subprocess.run(
        [sys.executable, "-c", "import carelink.wsgi"], env=env, cwd=ROOT, capture_output=True
    )
    assert started.returncode == 0, started.stderr
