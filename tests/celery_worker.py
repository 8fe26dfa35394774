"""Fixtures for the routing queue.

- `routed`: run the routing tasks in-process after commit, as the embedded
  deployment (no REDIS_URL) does, even when the suite runs with REDIS_URL set.
- `celery_worker`: a real `celery -A carelink worker` on Redis, spawned as a
  subprocess against the test database, for @pytest.mark.celery_worker tests.
  Without REDIS_URL those tests are skipped; with REDIS_URL set an unreachable
  Redis fails them.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from carelink.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
CELERY = ROOT / ".venv" / "bin" / "celery"


@pytest.fixture
def routed(django_capture_on_commit_callbacks) -> Iterator[Callable[[], AbstractContextManager]]:
    """`with routed(): ...` runs the after-commit hand-offs (and the tasks they
    queue, eagerly) when the block ends, as a real commit would."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True

    @contextmanager
    def _routed() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    yield _routed
    celery_app.conf.task_always_eager = saved


def wait_for(predicate: Callable[[], object], timeout: float, what: str, step: float = 0.1):
    """Poll until `predicate()` is truthy; fail (never hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url_or_skip() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("needs REDIS_URL (a real Redis) for a real Celery worker")
    return url


def _database_url() -> str:
    """The test database, as the worker subprocess must see it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = db["NAME"]
        if not name or name == ":memory:" or "mode=memory" in str(name):
            pytest.fail("worker tests need a file-based SQLite test database (TEST NAME)")
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Worker:
    """A `celery worker` subprocess on one queue, stoppable and killable."""

    def __init__(self, broker_url: str, queue: str, *, beat: bool, log_path: Path) -> None:
        self.broker_url = broker_url
        self.queue = queue
        self.beat = beat
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "REDIS_URL": self.broker_url,
            "DATABASE_URL": _database_url(),
            "CARELINK_TASK_QUEUE": self.queue,
            "CARELINK_OUTBOX_SWEEP_SECONDS": "1",
            "DATABASE_CONN_MAX_AGE": "0",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "carelink-test-suite-only"),
            "DJANGO_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> "Worker":
        args = [str(CELERY), "-A", "carelink", "worker", "--pool=solo", "-Q", self.queue]
        args += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        args += ["-n", f"{self.queue}-{uuid.uuid4().hex[:6]}@%h"]
        if self.beat:
            # The in-memory scheduler: nothing to persist between these short-lived
            # workers (the shelve file of the default one hit "locking protocol").
            args += ["--beat", "--scheduler", "celery.beat:Scheduler"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_for(self._ready, 30, "the celery worker to start")
        return self

    def _ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            pytest.fail(f"celery worker exited; see {self.log_path}:\n{self.log_tail()}")
        return b" ready." in self.log_path.read_bytes()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, unacknowledged messages stay with the broker."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=5)


@contextmanager
def using_broker(broker_url: str, queue: str) -> Iterator[None]:
    """Point this (test) process's publishing at `broker_url` and `queue`."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager, conf.task_default_queue)
    conf.broker_url = broker_url
    conf.task_always_eager = False
    conf.task_default_queue = queue
    _reset_connection_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager, conf.task_default_queue = saved
        _reset_connection_pools()


def _reset_connection_pools() -> None:
    """Forget pooled broker connections, so the next publish uses the current URL."""
    kombu_pools.reset()  # closes and forgets every pooled connection and producer
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class ThrowawayRedis:
    """A private redis-server on a free port, so an outage test never stops the
    shared one."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("redis-server is not installed")
        self.process = subprocess.Popen(
            [server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: redis_ping(self.url), 10, "the throwaway redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def worker_queue() -> str:
    return f"carelink-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def spawn_worker(tmp_path, worker_queue) -> Iterator[Callable[..., Worker]]:
    """Start workers on this test's own queue; every one is stopped at the end."""
    redis_url_or_skip()
    started: list[Worker] = []

    def _spawn(broker_url: str | None = None, *, beat: bool = True) -> Worker:
        url = broker_url or os.environ["REDIS_URL"]
        log = tmp_path / f"worker-{len(started)}.log"
        worker = Worker(url, worker_queue, beat=beat, log_path=log).start()
        started.append(worker)
        return worker

    yield _spawn
    for worker in started:
        worker.stop()


@pytest.fixture
def routing_worker(spawn_worker, worker_queue) -> Iterator[Worker]:
    """A worker with beat (sweep every second) on the shared Redis, and this
    process publishing to the same queue."""
    url = os.environ["REDIS_URL"]
    if not redis_ping(url):
        pytest.fail(f"REDIS_URL is set but Redis at {url} does not answer")
    connection.close()  # the worker must see committed data, not our connection's
    with using_broker(url, worker_queue):
        yield spawn_worker(url)
