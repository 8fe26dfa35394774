"""CareLink settings, read from the environment (django-environ).

The embedded default (no DATABASE_URL, no REDIS_URL) is a real deployment for a
small clinic: SQLite in WAL mode with a busy timeout, tasks run in-process.
"""

from datetime import timedelta
from pathlib import Path

import django
import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="carelink-development-only-not-secret")
else:
    # Outside debug a missing secret must stop the process at start, not run insecurely.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "axes",
    "pgtrigger",
    # The floors, ground up (docs/architecture.md).
    "core",
    "records",
    "consent",
    "referrals",
    "measures",
    "capacity",
    "inbox",
    "portal",
    "fhir_api",
    "carelink",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.sessions.IdleClockMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Every access recorded under the face it came through (web, api, fhir, portal).
    "core.audit.AuditChannelMiddleware",
    # A client's account stays in the portal; nobody else enters it (core.permissions).
    "core.permissions.WallMiddleware",
    "core.pages.ApplicationErrorMiddleware",
    # AxesMiddleware last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "carelink.urls"
WSGI_APPLICATION = "carelink.wsgi.application"
ASGI_APPLICATION = "carelink.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of failing with
    # "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # PostgreSQL takes the joins in the order Django writes them: the listed
    # table first, then each row's foreign keys (select_related). Searching
    # every order of a list's seven tables cost up to 9 ms of planning per
    # query, for a plan no better (docs/performance.md, "Province scale").
    # Subqueries are still flattened and every join still picks its method.
    # Behind pgbouncer, which refuses this start-up option, set it on the
    # database's role instead (docs/scaling.md).
    _join_collapse_limit = env.int("DATABASE_JOIN_COLLAPSE_LIMIT", default=1)
    if _join_collapse_limit:
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        _options["options"] = (
            f"{_options.get('options', '')} -c join_collapse_limit={_join_collapse_limit}"
        ).strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "records.Provider"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- django-guardian ------------------------------------------------------------
# No anonymous user: every endpoint needs a provider.
ANONYMOUS_USER_NAME = None

# --- sign-in, sessions, lockout --------------------------------------------------
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
CARELINK_IDLE_LOGOUT_MINUTES = env.int("CARELINK_IDLE_LOGOUT_MINUTES", default=15)
SESSION_COOKIE_AGE = CARELINK_IDLE_LOGOUT_MINUTES * 60
# Idle logoff: the session ends CARELINK_IDLE_LOGOUT_MINUTES after the last request.
# Not by saving it on every request: core.sessions moves its end forward when it
# has fallen a minute behind (docs/security.md, "Idle logoff").
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

AXES_FAILURE_LIMIT = env.int("CARELINK_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CARELINK_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("CARELINK_AXES_ENABLED", default=True)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- i18n, static ------------------------------------------------------------------
LANGUAGE_CODE = "en-ca"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="America/Toronto")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- email: no record content ever goes by email ------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
if django.VERSION >= (6, 1):
    MAILERS = {
        "default": {
            "BACKEND": _email["EMAIL_BACKEND"],
            "OPTIONS": {
                option: _email[f"EMAIL_{option.upper()}"]
                for option in ("host", "port", "use_tls", "use_ssl")
                if _email.get(f"EMAIL_{option.upper()}")
            }
            | (
                {"username": _email["EMAIL_HOST_USER"], "password": _email["EMAIL_HOST_PASSWORD"]}
                if _email.get("EMAIL_HOST_USER")
                else {}
            ),
        }
    }
else:  # Django 5.2 on Python 3.11
    vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CareLink <no-reply@carelink.invalid>")
CARELINK_BASE_URL = env.str("CARELINK_BASE_URL", default="http://127.0.0.1:8000")

# --- REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "core.permissions.BehindTheWall",
    ],
    # JSON in and out: a form-encoded or multipart body is a 415.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.CareLinkAutoSchema",
    "EXCEPTION_HANDLER": "core.rest.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CareLink API",
    "DESCRIPTION": "One client record shared across organizations, gated by consent.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CategoryEnum": "core.vocabulary.Category",
        "SectorEnum": "core.vocabulary.Sector",
        "RoleEnum": "core.vocabulary.Role",
        "EffectEnum": "consent.models.Effect",
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
    },
}

# --- clinical policy settings --------------------------------------------------------
CARELINK_EMERGENCY_ACCESS_HOURS = env.float("CARELINK_EMERGENCY_ACCESS_HOURS", default=4)
CARELINK_OVERDUE_DAYS = {
    "emergent": env.int("CARELINK_OVERDUE_DAYS_EMERGENT", default=1),
    "urgent": env.int("CARELINK_OVERDUE_DAYS_URGENT", default=7),
    "routine": env.int("CARELINK_OVERDUE_DAYS_ROUTINE", default=30),
}

# --- Celery: the routing queue ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CARELINK_OUTBOX_SWEEP_SECONDS = env.float("CARELINK_OUTBOX_SWEEP_SECONDS", default=30)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # No broker: the same tasks run in-process, after commit.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = False
# One queue name for the web process, the worker and beat.
CELERY_TASK_DEFAULT_QUEUE = env.str("CARELINK_TASK_QUEUE", default="celery")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# acks_late: a task is acknowledged only after it ran, so a worker killed with
# SIGKILL mid-task leaves the message to be redelivered. Delivery is idempotent
# (a unique constraint per event and recipient), so a redelivery is a no-op.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Prefetch one: a killed worker holds at most one unacknowledged message per
# process, and a slow delivery does not hold up others queued behind it.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged message only after the visibility timeout.
# Five minutes is far longer than any delivery takes, and the outbox sweep (every
# 30 s) re-dispatches anything undelivered long before that, so the sweep — not
# the visibility timeout — bounds recovery time after a crash.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Publishing from a request tries the broker once more, after a short pause,
    # then gives up (the outbox row is durable): an outage costs a request well
    # under a second, not kombu's default 2 s back-off per attempt.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# When Redis is down, publishing fails fast; the event is already in the outbox
# and the sweep dispatches it later, so the API never waits or errors on the broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {
        "task": "core.events.sweep_outbox",
        "schedule": CARELINK_OUTBOX_SWEEP_SECONDS,
    },
    "notice-overdue-referrals": {
        "task": "referrals.tasks.notice_overdue_referrals",
        "schedule": env.float("CARELINK_OVERDUE_CHECK_SECONDS", default=3600),
    },
}

# --- security and accounts -----------------------------------------------------------
# Sign-in, API tokens, the second factor, the per-address sign-in throttle and the
# HTTP hardening live in accounts/ (docs/security.md).
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "accounts.apps.CareLinkAdminConfig"
INSTALLED_APPS += [
    "knox",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
]
_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
MIDDLEWARE[_security + 1 : _security + 1] = [
    # Before WhiteNoise, so static files carry the Content-Security-Policy too.
    "csp.middleware.CSPMiddleware",
    # A body over the limit is refused before anything reads it.
    "accounts.errors.BodySizeLimitMiddleware",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() (the admin)
)

# A body over 2.5 MB is a 413; every 4xx under /api/ and /fhir/ that Django (not
# DRF) answers is JSON too (accounts.errors; the handlers are in carelink/urls.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * 1024 * 1024)
CSRF_FAILURE_VIEW = "accounts.errors.csrf_failure"
AXES_LOCKOUT_CALLABLE = "accounts.errors.account_locked_out"

# Tokens that end: hashed, one per device, expiring (django-rest-knox).
CARELINK_TOKEN_HOURS = env.float("CARELINK_TOKEN_HOURS", default=10)
KNOX_TOKEN_MODEL = "accounts.DeviceToken"
# knox's own migrations would create its (swapped-out, never used) token table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=CARELINK_TOKEN_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "USER_SERIALIZER": None,
}

# Second factor (django-otp, TOTP with recovery codes) at sign-in for privacy
# officers, org admins and superusers, on the pages, the admin and the token
# endpoint. `make demo` and API-contract acceptance runs switch it off.
CARELINK_REQUIRE_2FA = env.bool("CARELINK_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = "CareLink"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Password spraying: after this many failed sign-ins from one address within the
# window (token endpoint and sign-in form together), every attempt from it is a
# 429 until the oldest leaves the window (accounts.throttle; 0 switches it off).
CARELINK_SIGN_IN_FAILURES_PER_ADDRESS = env.int("CARELINK_SIGN_IN_FAILURES_PER_ADDRESS", default=30)
CARELINK_SIGN_IN_FAILURE_WINDOW_MINUTES = env.int(
    "CARELINK_SIGN_IN_FAILURE_WINDOW_MINUTES", default=10
)

# Content-Security-Policy on every response (django-csp): nothing runs or loads
# from anywhere but this site, no inline script or style anywhere (the pages,
# the admin and /api/docs/ included); Swagger UI's icons are data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# https only, unless DJANGO_SECURE_COOKIES=false (plain http on loopback: the demo).
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = 31_536_000 if SESSION_COOKIE_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy, e.g. DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO=https
if _proxy_header := env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_header.split("=", 1))
# HSTS preload binds the whole domain and its subdomains for months: a choice for
# the operator of the domain, not a default (docs/security.md).
SILENCED_SYSTEM_CHECKS = [
    "security.W021",
    # The covering indexes (INCLUDE columns: the referral figures', the client
    # search's) are for PostgreSQL;
    # SQLite builds the same index on its key columns alone, which is still right.
    "models.W040",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# --- the client portal (docs/portal.md) ------------------------------------------------
# Guessing invitation codes: after this many failed activations from one address
# within the window, every further attempt from it is a 429 (0 switches it off).
CARELINK_PORTAL_ACTIVATION_FAILURES_PER_ADDRESS = env.int(
    "CARELINK_PORTAL_ACTIVATION_FAILURES_PER_ADDRESS", default=30
)
CARELINK_PORTAL_ACTIVATION_WINDOW_MINUTES = env.int(
    "CARELINK_PORTAL_ACTIVATION_WINDOW_MINUTES", default=10
)
