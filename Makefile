# The two commands of the README: `make demo` and `make test`.
# Django 6.1 needs Python 3.12+; we take the newest interpreter we can find
# (PATH, then pyenv's installs) and fall back to python3 (Django 5.2 LTS).
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	if $$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install serve clean

# `make demo PORT=8123` serves elsewhere; links in emails and the printed
# logins follow (CARELINK_BASE_URL, unless it is set already).
PORT ?= 8000
CARELINK_BASE_URL ?= http://127.0.0.1:$(PORT)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The demo runs as a small clinic would: DEBUG off, a generated secret kept in
# .env, the embedded SQLite database, gunicorn, tasks in-process (no REDIS_URL).
.env:
	@$(BIN)/python -c "import secrets; print('DJANGO_SECRET_KEY=' + secrets.token_urlsafe(50))" > .env
	@echo "# Plain http on 127.0.0.1: session cookies may not require https." >> .env
	@echo "DJANGO_SECURE_COOKIES=false" >> .env

demo: export CARELINK_BASE_URL := $(CARELINK_BASE_URL)
demo: $(STAMP) .env
	@# The demo's privacy officers and admins sign in with a password alone (an
	@# .env from before the second factor gets the line too).
	@grep -q '^CARELINK_REQUIRE_2FA=' .env || echo "CARELINK_REQUIRE_2FA=false" >> .env
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	@# The stories raise notifications; their emails need not flood the terminal.
	EMAIL_URL=dummymail:// $(BIN)/python manage.py load_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py print_demo_logins --served-at http://127.0.0.1:$(PORT)
	@# Beat's schedule (outbox sweep, overdue referrals) runs beside the web server.
	@# --limit-request-line 0: an over-long search reaches Django and gets the
	@# app's own 400 page instead of gunicorn's raw 414 (gunicorn bounds it at 1 MB).
	$(BIN)/python manage.py run_periodic_tasks & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn carelink.wsgi:application --bind 127.0.0.1:$(PORT) \
		--limit-request-line 0 --workers 2 --threads 4 --access-logfile - --error-logfile -

# Lint and tests need no real secret; an exported one (CI, .env) still wins.
lint test: export DJANGO_SECRET_KEY ?= carelink-test-suite-only

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check
	@# Production settings (DEBUG off, https only, a real mail server) pass the deploy checks.
	DJANGO_DEBUG=false DJANGO_SECURE_COOKIES=true EMAIL_URL=smtp+tls://ci:ci@smtp.example.org:587 \
		DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	@if docker compose version >/dev/null 2>&1; then docker compose config --quiet; \
	elif command -v docker-compose >/dev/null; then docker-compose config --quiet; fi

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
