"""The API answers as its OpenAPI schema says (docs/schema.md).

Schemathesis reads `/api/schema/` from a live server holding the demo's data,
signed in as the mental-health intake worker (a provider with real clients,
referrals and a queue), and sends a few thousand generated requests — valid
ones and invalid ones — with a fixed seed. Every answer must be no server
error, a status the schema documents, the content type and headers it
documents, a body that fits its schema; invalid input must be refused, and an
operation that needs a caller must refuse one without credentials.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
]


def test_every_answer_is_one_the_schema_documents(live_server, tmp_path):
    call_command("load_demo", stdout=open(os.devnull, "w"))
    answer = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "intake_kim", "password": "carelink-demo"},
        format="json",
    )
    token = answer.json()["token"]
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {token}",
            # Signing out would end this run's own token half-way through.
            "--exclude-path-regex",
            "/auth/logout",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "coverage,fuzzing",
            "--max-examples",
            "8",
            "--seed",
            "1",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.stdout[run.stdout.find("FAILURES") :] if "FAILURES" in run.stdout else run.stdout
    assert run.returncode == 0, report[-20000:] + run.stderr[-2000:]
    # It really ran: every operation but the two sign-outs, thousands of cases.
    tested = int(re.search(r"Tested: (\d+)", run.stdout).group(1))
    generated = int(re.search(r"(\d+) generated", run.stdout).group(1))
    assert tested >= 49 and generated >= 1000, run.stdout[-3000:]
