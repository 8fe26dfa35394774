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
    }
    env.pop("REDIS_URL", None)  # the embedded default: tasks in-process
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "load_demo"], env=env, check=True, cwd=ROOT, capture_output=True)
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
