"""Shareloop settings, read from the environment (12-factor); each setting is defined once.

With no variables set the project runs on the embedded default: SQLite in WAL mode and Celery on
Kombu's filesystem transport under ``var/``, still with a real worker process.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from .schedules import EpochAlignedSchedule

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("SHARELOOP_VAR_DIR", default=str(BASE_DIR / "var")))

# Production unless DEBUG or DEMO_MODE: a secret key is required; HTTPS, throttles and share batching default on.
DEBUG = env.bool("DEBUG", default=False)
DEMO_MODE = env.bool("DEMO_MODE", default=False)
PRODUCTION = not (DEBUG or DEMO_MODE)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set unless DEBUG or DEMO_MODE is on.")
    SECRET_KEY = "insecure-local-only-key-for-debug-and-demo"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "video_platform.apps.PlatformConfig",
    "inbox",
    "analytics",
    "qa",
]

MIDDLEWARE = [
    "video_platform.middleware.ApiErrorsAsJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "video_platform.error_pages.FriendlyErrorPagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "video_platform.middleware.RepeatedQueryParametersMiddleware",
]

ROOT_URLCONF = "video_platform.urls"
WSGI_APPLICATION = "video_platform.wsgi.application"
ASGI_APPLICATION = "video_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (web + worker) need IMMEDIATE transactions and WAL, or grouped counts drift
    # and requests fail with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so the worker process of the integration tests sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # Under ASGI every request may run on a thread of its own, and a connection kept per thread piles up
    # (Django's docs advise against persistent connections there): the web closes its connection after
    # each request. A Celery worker process runs one task at a time and keeps its own for
    # CELERY_WORKER_CONN_MAX_AGE seconds (video_platform/celery.py). See README, "Database connections".
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_WORKER_CONN_MAX_AGE = env.int("CELERY_WORKER_CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when set, is the Celery broker, the shared cache and the inbox stream's wake-up channel.
REDIS_URL = env.str("REDIS_URL", default="")
# DRF throttles count in the shared cache, so every web process sees the same numbers (and let requests
# through while it is down: see video_platform/throttles.py).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "shareloop"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTHENTICATION_BACKENDS = ["video_platform.authentication.LoginLimitBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"

# `make test` and plain-HTTP setups turn HTTPS_ONLY off.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=PRODUCTION)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS_ONLY)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    # Only behind a proxy that terminates TLS and sets this header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
# Addresses of the proxies whose X-Forwarded-For/-Proto uvicorn believes (`manage.py serve`); empty trusts
# none, so a client can't pick its own address to escape the login throttle. "*" trusts every peer.
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="")

REST_FRAMEWORK = {
    # Token first, so a request without credentials gets 401 with ``WWW-Authenticate: Token``.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["video_platform.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "video_platform.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "video_platform.throttles.WriteRateThrottle",
        "video_platform.throttles.ScopedRateThrottle",
    ],
    # Off with DEBUG/DEMO_MODE (a rate of None switches a throttle off); load runs raise them.
    "DEFAULT_THROTTLE_RATES": {
        # Writes per user; sign-ups and logins per client address.
        "writes": env.str("THROTTLE_RATE_WRITES", default="120/minute" if PRODUCTION else None),
        "signup": env.str("THROTTLE_RATE_SIGNUP", default="20/hour" if PRODUCTION else None),
        "login": env.str("THROTTLE_RATE_LOGIN", default="10/minute" if PRODUCTION else None),
        # Failed logins per account, from any address and through any login form (video_platform/authentication.py).
        "login_failures": env.str("THROTTLE_RATE_LOGIN_FAILURES", default="10/hour" if PRODUCTION else None),
    },
    # For other servers (gunicorn): proxies in front, the client address taken that far back in X-Forwarded-For.
    # Leave it 0 under `manage.py serve`, which has already put the client's address in REMOTE_ADDR.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shareloop API",
    "DESCRIPTION": "A simulated short-video platform whose inbox never names a sharer.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: /api/docs/ works offline, like the rest of the demo.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request components, so required text fields say minLength: 1 (and readOnly ones vanish).
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ContactPolicyEnum": "video_platform.models.ContactPolicy",
        "NotificationTypeEnum": "video_platform.notification_types.NOTIFICATION_TYPES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "video_platform.openapi.document_guide_errors_and_stream",
        "video_platform.openapi.request_bodies_refuse_other_fields",
    ],
}

# An event still pending this long after it was written (or last dispatched) is sent again.
EVENT_REDISPATCH_AFTER_SECONDS = env.int("EVENT_REDISPATCH_AFTER_SECONDS", default=60)
# Seconds between keep-alive comments on an idle inbox stream (/api/inbox/stream/).
INBOX_STREAM_KEEPALIVE_SECONDS = env.float("INBOX_STREAM_KEEPALIVE_SECONDS", default=15.0)
# A user's stream log is written while their inbox is watched (an open stream, an inbox page read) and this
# long after: a client back within it replays exactly (Last-Event-ID, ?since=); one away longer starts afresh.
INBOX_STREAM_REPLAY_SECONDS = env.int("INBOX_STREAM_REPLAY_SECONDS", default=600)
if INBOX_STREAM_REPLAY_SECONDS < 2 * INBOX_STREAM_KEEPALIVE_SECONDS:
    # An open stream renews its watch at keep-alives: a shorter window would lapse while it is open.
    raise ImproperlyConfigured("INBOX_STREAM_REPLAY_SECONDS must be at least twice INBOX_STREAM_KEEPALIVE_SECONDS.")
# Followers per chunked fan-out task of a new post (bench/README.md: 4000 measured faster than 1000 or 2000).
POST_FAN_OUT_CHUNK_SIZE = env.int("POST_FAN_OUT_CHUNK_SIZE", default=4000)

# Anonymous share notifications reach a creator in batches, at most once per window, so the moment a
# share arrives does not single out the sharer. Off (0) in DEBUG and demo mode. See README.
SHARE_NOTIFICATION_BATCH_SECONDS = env.int("SHARE_NOTIFICATION_BATCH_SECONDS", default=600 if PRODUCTION else 0)
# The window in force: this setting, or a presenter's runtime switch in DEMO_MODE. Named here, in the wiring,
# so the social core asks it without importing the inbox.
SHARE_BATCH_SECONDS_READER = "inbox.batching.share_batch_seconds"
# A creator's closed windows holding fewer shares than this are carried into the next window, at most
# until the next epoch-aligned boundary of SHARE_RELEASE_MAX_DELAY_SECONDS (docs/privacy.md, figures).
SHARE_RELEASE_MIN_CROWD = env.int("SHARE_RELEASE_MIN_CROWD", default=1)
SHARE_RELEASE_MAX_DELAY_SECONDS = env.int("SHARE_RELEASE_MAX_DELAY_SECONDS", default=3600)

# Pro analytics: raw video/profile views older than this many days are pruned once rolled up.
ANALYTICS_RAW_RETENTION_DAYS = env.int("ANALYTICS_RAW_RETENTION_DAYS", default=90)

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if REDIS_URL:
    # Kombu's Redis transport, mended so a worker survives Redis going away mid-BRPOP (see the module).
    CELERY_BROKER_TRANSPORT = "video_platform.broker:Transport"
    # A message a dead worker held unacknowledged goes back to the queue this long after delivery; a
    # live worker scans for such messages every CELERY_UNACKED_RESTORE_INTERVAL seconds. See README.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
        # A worker killed while holding the restore lock blocks every restore until the lock expires.
        "unacked_mutex_expire": 30,
        # Bounds how long a web request can block on a broker that vanished without closing the socket.
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
    }
else:
    # Kombu's filesystem transport, mended so a worker never reads a message still being written.
    CELERY_BROKER_TRANSPORT = "video_platform.broker:FilesystemTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        # Broadcasts (worker pings, remote control) go here too, not to ./control in the work tree.
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
        # The worker polls the folder; the default 1 s would add up to a second to every delivery.
        "polling_interval": 0.1,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task running when the broker connection drops can no longer be acknowledged: stop it and let it come
# back (Celery 6's default). Delivery is idempotent, so running it again is safe.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# After reconnecting with tasks in flight Celery would lower the prefetch count and raise it again as
# they finish; with Redis it could stay lowered and the worker stopped consuming (seen in the
# broker-outage test). Prefetch is 1 per process anyway.
CELERY_WORKER_ENABLE_PREFETCH_COUNT_REDUCTION = False
# Celery's Django fixup closes the database connection around every task unless this is set; tasks
# instead reuse it for CONN_MAX_AGE like requests do (video_platform/celery.py closes broken ones).
CELERY_DB_REUSE_MAX = 1000

CELERY_BEAT_SCHEDULE = {
    "redispatch-pending-events": {
        "task": "inbox.redispatch_pending_events",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=30.0),
    },
    "prune-inbox-stream-log": {"task": "inbox.prune_stream_log", "schedule": 3600.0},
    # At each window boundary, so nothing it releases moves between boundaries; often in DEMO_MODE, where a
    # presenter may switch a short window on at runtime (inbox/batching.py).
    "release-share-batches": {
        "task": "inbox.release_share_batches",
        "schedule": 5.0 if DEMO_MODE else EpochAlignedSchedule(run_every=SHARE_NOTIFICATION_BATCH_SECONDS or 60),
    },
    "analytics-rollup": {
        "task": "analytics.rollup_recent_days",
        "schedule": env.float("ANALYTICS_ROLLUP_INTERVAL_SECONDS", default=300.0),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
