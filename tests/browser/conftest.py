"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Without /usr/bin/chromium the browser tests skip on a developer machine but FAIL
when the CI environment variable is set: a CI run must never pass by skipping.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM
# calls from a thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# The README's screenshots are refreshed on request (CARELINK_SCREENSHOTS=docs/screenshots);
# an ordinary run writes them to a scratch folder so it leaves the checkout clean.
SCREENSHOTS = Path(
    os.environ.get("CARELINK_SCREENSHOTS") or Path(tempfile.gettempdir()) / "carelink-screenshots"
).resolve()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server) -> Iterator[Callable[[], object]]:
    """Fresh browser contexts (one per persona), all closed before the live server
    stops, so no keep-alive request outlives the test's database."""
    contexts = []

    def _new_page():
        context = chromium.new_context(viewport={"width": 1280, "height": 860})
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def in_process_routing(settings) -> Iterator[None]:
    """The live server's commits hand events to Celery; run the tasks in-process
    (the embedded deployment) so notifications exist when the next page loads."""
    from carelink.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def assert_accessible(page, name: str) -> None:
    """axe-core, injected by the test only (never served by the app): no serious
    or critical violations. Evaluated through the DevTools protocol, which the
    page's Content-Security-Policy rightly refuses to let a <script> tag do."""
    page.evaluate(AXE.read_text() + "\n;void 0")
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
            }));
        }"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations on {name}: {bad}"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
