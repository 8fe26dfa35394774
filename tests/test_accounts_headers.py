"""HTTP hardening (issue 14, finding 4): a Content-Security-Policy on every
response (`default-src 'self'`, no inline script anywhere), HSTS and the https
redirect in production settings unless DJANGO_SECURE_COOKIES=false, and
`check --deploy` clean."""

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent


def deployment_environment(**env: str) -> dict[str, str]:
    """This process's environment less what only the browser tests set."""
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return environment | env


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict_policy(response) -> None:
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"], policy
    script = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, policy
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/",
        "/api/v1/me/",
        "/api/v1/nowhere/",
        "/nowhere/",
        "/api/schema/",
        "/api/docs/",
        "/static/css/carelink.css",
    ],
)
def test_every_response_carries_the_policy(path, client, db):
    assert_strict_policy(client.get(path))


def test_signed_in_pages_and_api_carry_the_policy(client, dr_lee, ana, api_as):
    client.force_login(dr_lee)
    assert_strict_policy(client.get(f"/clients/{ana.pk}/"))
    assert_strict_policy(api_as(dr_lee).get(f"/api/v1/clients/{ana.pk}/entries/"))


class _InlineCode(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self._in_inline = "script"
        if tag == "style":
            self._in_inline = "style"
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on")]
        self.found += [f"{tag} style=" for name in names if name == "style"]

    def handle_data(self, data: str) -> None:
        if self._in_inline and data.strip():
            self.found.append(f"inline <{self._in_inline}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_inline = None


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_no_template_has_inline_script_style_or_handlers():
    offenders = {}
    for template in (ROOT / "templates").rglob("*.html"):
        text = re.sub(r"{%.*?%}|{{.*?}}", "", template.read_text())
        if found := inline_code(text):
            offenders[str(template.relative_to(ROOT))] = found
    assert not offenders


def test_the_api_docs_page_runs_no_inline_script(db):
    page = APIClient().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not inline_code(html), inline_code(html)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    from django.contrib.staticfiles import finders

    for src in (src.replace("&amp;", "&") for src in scripts):
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), src
            continue
        script = APIClient().get(src)  # the start-up script, from this site
        assert script.status_code == 200, src
        assert "javascript" in script["Content-Type"], src
        assert "SwaggerUIBundle" in script.content.decode()


def settings_in_a_process(**env: str | None) -> dict[str, str]:
    """The settings as a fresh process reads them from `env` (None: unset)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE')}))"
    )
    environment = deployment_environment(
        DJANGO_SETTINGS_MODULE="carelink.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DEBUG="false",
    )
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout)


def test_production_settings_redirect_to_https_and_send_hsts():
    production = settings_in_a_process(DJANGO_SECURE_COOKIES="true")
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    # Outside debug, production is the default.
    assert settings_in_a_process(DJANGO_SECURE_COOKIES=None)["SECURE_SSL_REDIRECT"] is True


def test_plain_http_on_loopback_only_when_secure_cookies_are_off():
    loopback = settings_in_a_process(DJANGO_SECURE_COOKIES="false")
    assert loopback["SECURE_SSL_REDIRECT"] is False
    assert loopback["SECURE_HSTS_SECONDS"] == 0
    assert not loopback["SESSION_COOKIE_SECURE"]


def test_check_deploy_passes_in_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=deployment_environment(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_DEBUG="false",
            DJANGO_SECURE_COOKIES="true",
            # Production sends its email somewhere (the console backend is an error there).
            EMAIL_URL="smtp+tls://carelink:secret@smtp.example.org:587",
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_redirect_and_hsts_are_what_the_middleware_sends(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_admin_runs_no_inline_script(sysadmin, dr_lee):
    from django.test import Client as WebClient

    from tests.second_factor import verified_login

    admin = verified_login(WebClient(), sysadmin)
    for path in (
        "/admin/",
        "/admin/records/provider/",
        f"/admin/records/provider/{dr_lee.pk}/change/",
    ):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert_strict_policy(page)
        # Inline scripts and handlers (an inline style attribute only loses looks).
        found = inline_code(page.content.decode())
        scripts = [f for f in found if "script" in f or " on" in f]
        assert not scripts, (path, scripts)
