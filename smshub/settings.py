"""SMS Hub settings: the only module that reads the environment.

Every knob is an environment variable (or a line in a `.env` file at the project root);
the README lists them all. With nothing set, the hub runs on embedded defaults:
SQLite and Celery's filesystem transport, so one command brings up a working dashboard.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Development fallbacks: refused by the system checks (smshub/checks.py) when DEBUG is off.
INSECURE_SECRET_KEY = "insecure-development-key-do-not-use-in-production"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=INSECURE_SECRET_KEY)
PORT = env.int("PORT", default=8000)
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "smshub",
    "accounts",
    "providers",
    "audiences",
    "campaigns",
    "callbacks",
    "sandbox",
    "stats",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "smshub.urls"
WSGI_APPLICATION = "smshub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Each provider kind keeps its setup page in its folder: "<kind>/form.html".
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "providers" / "kinds"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    }
]

# Widgets render through the project templates (e.g. the key/value rows widget).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG or env.bool("WHITENOISE_USE_FINDERS", default=False):
    # Serve straight from the source folders (no collectstatic needed).
    WHITENOISE_USE_FINDERS = True
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Cookies are marked Secure whenever the site is served over https.
SITE_IS_HTTPS = SITE_URL.startswith("https://")
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=SITE_IS_HTTPS)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("BEHIND_PROXY", default=False):
    # The proxy terminates TLS and says so: request.is_secure() (the redirect, HSTS) trusts it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Over https (SPEC §8): plain http is redirected to https, and browsers are told to use only
# https for a year (HSTS, sent on https answers). GET /healthz answers over http too: load
# balancers often check the web servers directly, without TLS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SITE_IS_HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if SITE_IS_HTTPS else 0
)
# Off unless asked: HSTS on subdomains would break any of them still served over http.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
# Content-Security-Policy, always on: pages load only our own scripts, styles and images, run
# no inline script or style attribute, are never framed, and post forms only to us.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Provider credentials are encrypted with these Fernet keys (comma-separated, newest first:
# the first encrypts, all decrypt, so a key can be rotated; see `manage.py rotate_secrets`).
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[])

# Celery: the filesystem transport needs no server; set CELERY_BROKER_URL to Redis or
# RabbitMQ to scale out to workers on other machines.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    for folder in ("data_folder_in", "processed_folder", "control_folder"):
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[folder]).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Workers consume this queue (several deployments, or test runs, can share one broker).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Outbound HTTP to providers (smshub/http.py).
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=30.0)
# SSRF guard: refuse to connect to private, loopback, link-local, CGNAT or metadata
# addresses. On unless DEBUG; development and tests (local servers) turn it off.
BLOCK_PRIVATE_ADDRESSES = env.bool("BLOCK_PRIVATE_ADDRESSES", default=not DEBUG)
# Provider and OAuth answers larger than this are dropped unread.
HTTP_MAX_ANSWER_BYTES = env.int("HTTP_MAX_ANSWER_BYTES", default=1_000_000)
TWILIO_API_BASE = env("TWILIO_API_BASE", default="https://api.twilio.com").rstrip("/")

# Uploaded CSV files wait here for the import worker: with web and workers on several
# machines, point it at shared storage.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served: uploads are read by workers only
# Audiences (SPEC §4): numbers without a country code are read as numbers of this country
# (ISO 3166 code; each import may choose another).
DEFAULT_COUNTRY = env("DEFAULT_COUNTRY", default="US").upper()
# A reply whose whole text, trimmed and case-folded, is one of these opts out / back in.
OPT_OUT_KEYWORDS = env.list(
    "OPT_OUT_KEYWORDS",
    default=["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"],
)
OPT_IN_KEYWORDS = env.list("OPT_IN_KEYWORDS", default=["START", "UNSTOP", "YES"])
# An import with no progress for this long lost its worker: it is started again.
IMPORT_STALL_AFTER = env.float("IMPORT_STALL_AFTER", default=600.0)
# The largest CSV file an import accepts (a 1,000,000-row file of a phone number and three
# attributes is about 35 MB); a larger one is refused while it is read, before it is stored.
AUDIENCE_MAX_UPLOAD_BYTES = env.int("AUDIENCE_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
# Every other request keeps Django's limits: 2.5 MB of form fields (DATA_UPLOAD_MAX_MEMORY_SIZE);
# an upload over 2.5 MB (FILE_UPLOAD_MAX_MEMORY_SIZE) is spooled to a temporary file, not memory.
# Files at least this large have their numbers checked in a helper process (another core).
IMPORT_PARALLEL_FROM_BYTES = env.int("IMPORT_PARALLEL_FROM_BYTES", default=1_000_000)

# Dispatch (campaigns/dispatch.py, SPEC §3.4). Retries: attempt n waits about
# BASE * 3^(n-1) seconds (±20 % jitter), or the provider's Retry-After if longer.
DISPATCH_MAX_ATTEMPTS = env.int("DISPATCH_MAX_ATTEMPTS", default=5)
DISPATCH_BACKOFF_BASE = env.float("DISPATCH_BACKOFF_BASE", default=20.0)
DISPATCH_BACKOFF_MAX = env.float("DISPATCH_BACKOFF_MAX", default=900.0)
# While a provider's OAuth token endpoint fails, its messages are retried this often, for
# at most this long after their first attempt.
DISPATCH_AUTH_RETRY_INTERVAL = env.float("DISPATCH_AUTH_RETRY_INTERVAL", default=120.0)
DISPATCH_AUTH_RETRY_WINDOW = env.float("DISPATCH_AUTH_RETRY_WINDOW", default=3600.0)
# Unbatched messages claimed together (their outcomes are written together).
DISPATCH_GROUP_SIZE = env.int("DISPATCH_GROUP_SIZE", default=100)
# Message ids per Celery task.
DISPATCH_RANGE_SIZE = env.int("DISPATCH_RANGE_SIZE", default=5000)
# …and a campaign is split into at least this many tasks, so all worker processes share it.
DISPATCH_SPREAD = env.int("DISPATCH_SPREAD", default=8)
# A message still "sending" this long after its attempt began is reconciled as
# Dispatch Error (outcome unknown), never re-sent.
DISPATCH_SENDING_TIMEOUT = env.float("DISPATCH_SENDING_TIMEOUT", default=600.0)
# The sweeper runs this often and re-enqueues a sending campaign with due messages that
# recorded no progress for DISPATCH_STALL_AFTER seconds (its task was lost).
DISPATCH_SWEEP_INTERVAL = env.float("DISPATCH_SWEEP_INTERVAL", default=30.0)
DISPATCH_STALL_AFTER = env.float("DISPATCH_STALL_AFTER", default=60.0)
# Auto-pause: more than this share of errors among the last WINDOW attempts.
AUTO_PAUSE_WINDOW = env.int("AUTO_PAUSE_WINDOW", default=200)
AUTO_PAUSE_ERROR_RATE = env.float("AUTO_PAUSE_ERROR_RATE", default=0.5)
# Callbacks (SPEC §6): the largest request accepted, and how often a stored request whose
# processing failed is tried again (every CALLBACK_RETRY_INTERVAL seconds).
CALLBACK_MAX_BYTES = env.int("CALLBACK_MAX_BYTES", default=5 * 1024 * 1024)
CALLBACK_MAX_RECORDS = env.int("CALLBACK_MAX_RECORDS", default=10_000)
CALLBACK_MAX_ATTEMPTS = env.int("CALLBACK_MAX_ATTEMPTS", default=10)
CALLBACK_RETRY_INTERVAL = env.float("CALLBACK_RETRY_INTERVAL", default=60.0)
# The sandbox provider (sandbox/) posts its simulated callbacks this many seconds after a send.
SANDBOX_CALLBACK_DELAY = env.float("SANDBOX_CALLBACK_DELAY", default=3.0)
# Scheduled campaigns are launched within this many seconds of their time.
SCHEDULE_CHECK_INTERVAL = env.float("SCHEDULE_CHECK_INTERVAL", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-dispatch": {"task": "campaigns.tasks.sweep", "schedule": DISPATCH_SWEEP_INTERVAL},
    "launch-scheduled": {"task": "campaigns.tasks.launch_due", "schedule": SCHEDULE_CHECK_INTERVAL},
    "retry-callbacks": {
        "task": "callbacks.tasks.retry_failed",
        "schedule": CALLBACK_RETRY_INTERVAL,
    },
}

# Shared by web and worker processes: OAuth 2.0 tokens of providers live here.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://smshub_cache")}

# Error reports (the DEBUG 500 page, mails to ADMINS) hide sensitive variables and POST
# fields even with DEBUG on.
DEFAULT_EXCEPTION_REPORTER_FILTER = "smshub.reports.AlwaysSafeExceptionReporterFilter"

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Callback tokens are secrets: every handler rewrites /callbacks/sms/<token>/ (SPEC §8).
    "filters": {"redact_tokens": {"()": "smshub.logredact.RedactCallbackTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers for these would print without the filter: through "console".
        "django": {"level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
