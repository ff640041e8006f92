"""Switchboard settings, driven entirely by the environment.

With no configuration the service runs embedded: a SQLite file, the in-process
channel layer and Celery tasks executed inside the web process (countdowns and ETAs
still honoured). Setting DATABASE_URL and REDIS_URL switches to production mode:
PostgreSQL, channels-redis and a Celery broker on Redis, with workers and beat run
as separate processes.
"""

import datetime
import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SWITCHBOARD_DATA_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def embedded_secret_key(path: Path) -> str:
    """The installation's own random key, made on the first start and kept in its data
    directory, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(50) + "\n")
        try:
            # Whole or not at all, and the first of processes starting together wins.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
IS_EMBEDDED = not (DATABASE_URL and REDIS_URL)
if bool(DATABASE_URL) != bool(REDIS_URL):
    # Half a production setup would silently run tasks in-process against PostgreSQL.
    raise RuntimeError("set both DATABASE_URL and REDIS_URL (production) or neither (embedded)")

DEBUG = env_bool("DEBUG", default=False)
# What embedded mode used before it kept a key of its own: public, so it signs nothing any
# more; only channel secrets stored under it are still read (and rotated away).
PUBLIC_PLACEHOLDER_SECRET_KEY = "embedded-mode-only-not-a-secret"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if IS_EMBEDDED:
        SECRET_KEY = embedded_secret_key(DATA_DIR / "secret_key")
    elif env_bool("SWITCHBOARD_ALLOW_DEFAULT_SECRET_KEY", False):
        SECRET_KEY = PUBLIC_PLACEHOLDER_SECRET_KEY
    else:
        raise RuntimeError("SECRET_KEY must be set in production mode")

# Channel secrets: the first key encrypts, every key decrypts (rotation: put the new key
# first, run `manage.py channel_secrets_rotate`, then drop the old one). Without a list of
# keys, CHANNEL_SECRETS_KEY or else SECRET_KEY encrypts, as before there was a list.
CHANNEL_SECRETS_KEYS = env_list("CHANNEL_SECRETS_KEYS", "")
for channel_secrets_key in CHANNEL_SECRETS_KEYS:
    if len(channel_secrets_key) < 32:
        raise RuntimeError("each CHANNEL_SECRETS_KEYS entry must be at least 32 characters long")
fallback_channel_secrets_keys = [
    os.environ.get("CHANNEL_SECRETS_KEY", ""),
    SECRET_KEY,
    PUBLIC_PLACEHOLDER_SECRET_KEY if IS_EMBEDDED else "",
]
CHANNEL_SECRETS_KEYS = [
    key for key in dict.fromkeys([*CHANNEL_SECRETS_KEYS, *fallback_channel_secrets_keys]) if key
]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
if PUBLIC_BASE_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Browsers come back over HTTPS only, for a year unless told otherwise. Behind a proxy
    # that terminates TLS, BEHIND_PROXY=true tells Django which requests were secure.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Health checks call the process itself, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]


def env_networks(name: str, default: str) -> list[str]:
    """Addresses or CIDRs separated by commas, refused at start-up if one is not."""
    entries = env_list(name, default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise RuntimeError(f"{name}: {entry!r} is not an IP address or a CIDR") from None
    return entries


# Proxies of our own (addresses or CIDRs): the client address is the right-most
# X-Forwarded-For entry that is not one of them (inbox.client_addresses).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", "127.0.0.1,::1")
# Outbound calls to addresses someone typed (callback URLs, API base URLs, remote
# attachments) never reach loopback, private, link-local or metadata addresses unless
# they are in one of these networks (channels_app.outbound_guard).
OUTBOUND_ALLOWED_NETWORKS = env_networks(
    "OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128" if IS_EMBEDDED else ""
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    # Before the inbox: its admin takes django-otp's device pages away (inbox.admin).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "customers",
    "inbox",
    "automation",
    "channels_app",
]

MIDDLEWARE = [
    "config.request_limits.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.storable_requests.StorableTextMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inbox.two_factor.middleware.TwoFactorRequirementMiddleware",
    "inbox.web.language.OperatorLanguageMiddleware",
    "inbox.web.time_zone.OperatorTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.content_security_policy.ContentSecurityPolicyMiddleware",
    "inbox.api.errors.DatabaseBusyMiddleware",
]

# The product's pages (not the admin's or the API docs'): scripts from this site only.
# Inline styles stay allowed (labels' colours, an email's own formatting in its sandboxed
# frame); images may come from https sites (remote images in email, once asked for).
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; media-src 'self' blob:; connect-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'",
).strip()

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "inbox.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

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

# Threads per web process that run Django's request handling: the WSGI server's threads,
# and in the ASGI server the threads that run the same WSGI application (see config.asgi).
WEB_THREADS = env_int("WEB_THREADS", 4)
# A request that waits this long for a database connection (every one busy, or the
# database down or restarting) is answered 503 with Retry-After.
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 10.0)
if DATABASE_URL:
    database = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    database_options = database.setdefault("OPTIONS", {})
    # Which process holds a connection, as pg_stat_activity shows it.
    database_options.setdefault("application_name", f"switchboard {os.getpid()}")
    # A process holds at most this many connections, whatever its threads do: under ASGI
    # every request runs in a thread of its own, and persistent connections there would
    # pile up until PostgreSQL refuses new ones. 0 turns the pool off (behind PgBouncer).
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", WEB_THREADS + 2)
    if DATABASE_POOL_SIZE > 0:
        database_options["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
            # Connections beyond the first close after a minute unused.
            "max_idle": 60.0,
        }
        # Pooled connections outlive their request, so a statement prepared on one serves
        # the requests after it: the API's lists prepare theirs (inbox.row_lookups). Django's
        # own cursors bind on the client and never prepare; without a pool of ours (behind
        # PgBouncer in transaction mode) nothing may be, and nothing is.
        database_options.setdefault("prepare_threshold", 5)
    else:
        database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)
    # The JIT compiler costs tens of milliseconds where it starts, and it starts on the
    # estimated cost of a search over every conversation: for the short statements a web
    # request runs it only ever adds time.
    if not env_bool("DATABASE_JIT", False):
        database_options["options"] = f"{database_options.get('options', '')} -c jit=off".strip()
    # Behind PgBouncer in transaction mode a cursor cannot outlive its transaction.
    database["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", False
    )
    DATABASES = {"default": database}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)

    def _sqlite_test_dir() -> Path:
        shared_memory = Path("/dev/shm")
        return shared_memory if os.access(shared_memory, os.W_OK) else DATA_DIR

    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "switchboard.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Tests get a file too: an in-memory database shared between threads locks
            # whole tables and fails at once instead of waiting as a file does. It goes in
            # memory-backed /dev/shm where there is one: commits there cost no disk flush.
            "TEST": {"NAME": str(_sqlite_test_dir() / f"switchboard-test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every Redis client gives up on an unreachable or silent Redis within these (seconds),
# and tries a failed command at most once more: a request never waits long on a Redis that
# is down. What it meant to queue is in the database (inbox.task_outbox), realtime is best
# effort, and the cache is only a cache.
REDIS_CONNECT_TIMEOUT_SECONDS = env_float("REDIS_CONNECT_TIMEOUT_SECONDS", 1.0)
REDIS_SOCKET_TIMEOUT_SECONDS = env_float("REDIS_SOCKET_TIMEOUT_SECONDS", 1.0)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "config.channel_layer.PipelinedPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Connecting only: its subscriber's reads wait for messages.
                        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
                        "socket_keepalive": True,
                    }
                ],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "switchboard"),
                "publish_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "switchboard",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a Redis broker in production; in embedded mode an in-memory broker consumed
# by a worker thread inside the web process (see channels_app.embedded_workers).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT", 3600),
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_keepalive": True,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT_SECONDS
# A task the broker does not take at once is not tried for long inside a request: it is
# recorded in the database with its cause and sent by the outbox sweep below.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env_int("BROKER_PUBLISH_RETRIES", 1),
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
# The longest a hand-over of tasks after commit waits on the broker, all retries included
# (inbox.task_outbox); what it gave up on is sent by the outbox sweep.
BROKER_PUBLISH_DEADLINE_SECONDS = env_float("BROKER_PUBLISH_DEADLINE_SECONDS", 1.0)
# Tasks the broker did not take when they were queued (inbox.task_outbox) are sent again
# by beat this often, once older than the grace (their own hand-over may still be under way).
OUTBOX_SWEEP_SECONDS = env_float("OUTBOX_SWEEP_SECONDS", 30.0)
OUTBOX_SEND_GRACE_SECONDS = env_float("OUTBOX_SEND_GRACE_SECONDS", 10.0)
# Beat looks for failed raw events to process again this often (see
# WEBHOOK_REPROCESS_MAX_ATTEMPTS for how each one's retries spread out).
WEBHOOK_REPROCESS_SECONDS = env_float("WEBHOOK_REPROCESS_SECONDS", 300.0)
# Customers' stored risk level (the list's "at risk" filter) is worked out again this often
# for those active lately and those at risk (inbox.services.customer_health).
HEALTH_REFRESH_SECONDS = env_float("HEALTH_REFRESH_SECONDS", 600.0)
CELERY_BEAT_SCHEDULE = {
    "refresh-customer-health": {
        "task": "inbox.tasks.customers_health_refresh_recent",
        "schedule": HEALTH_REFRESH_SECONDS,
    },
    "wake-snoozed-conversations": {
        "task": "inbox.tasks.conversations_wake_snoozed",
        "schedule": env_float("SNOOZE_SWEEP_SECONDS", 30.0),
    },
    "run-automation-rules-on-waits": {
        "task": "automation.tasks.automation_waits_sweep",
        "schedule": env_float("AUTOMATION_WAIT_SWEEP_SECONDS", 60.0),
    },
    "mark-sla-breaches": {
        "task": "inbox.tasks.sla_breaches_mark",
        "schedule": env_float("SLA_SWEEP_SECONDS", 15.0),
    },
    "announce-sla-due-soon": {
        "task": "inbox.tasks.sla_due_soon_notify",
        "schedule": env_float("SLA_SWEEP_SECONDS", 15.0),
    },
    "send-due-csat-surveys": {
        "task": "inbox.tasks.csat_surveys_queue_due",
        "schedule": env_float("CSAT_SWEEP_SECONDS", 15.0),
    },
    "send-due-webhook-deliveries": {
        "task": "channels_app.tasks.webhook_deliveries_queue_due",
        "schedule": env_float("WEBHOOK_DELIVERY_SWEEP_SECONDS", 10.0),
    },
    "notifications-email-digests": {
        "task": "inbox.tasks.notifications_email_digests_send",
        "schedule": env_float("NOTIFICATION_DIGEST_SWEEP_SECONDS", 60.0),
    },
    "send-pending-tasks": {
        "task": "inbox.tasks.pending_tasks_send_due",
        "schedule": OUTBOX_SWEEP_SECONDS,
    },
    "requeue-stuck-replies": {
        "task": "inbox.tasks.messages_requeue_stuck",
        "schedule": env_float("DELIVERY_STUCK_SWEEP_SECONDS", 300.0),
    },
    "fetch-lost-attachments": {
        "task": "channels_app.tasks.attachments_fetch_lost",
        "schedule": env_float("DELIVERY_STUCK_SWEEP_SECONDS", 300.0),
    },
    "settle-stale-sending-replies": {
        "task": "channels_app.tasks.messages_settle_stale_sending",
        "schedule": env_float("DELIVERY_SENDING_SWEEP_SECONDS", 60.0),
    },
    "forget-expired-reply-idempotency-keys": {
        "task": "inbox.tasks.reply_idempotency_keys_forget_expired",
        "schedule": 3600.0,
    },
    "poll-imap-mailboxes": {
        "task": "channels_app.tasks.mailboxes_poll",
        "schedule": env_float("IMAP_POLL_SECONDS", 60.0),
    },
    "reprocess-failed-webhook-events": {
        "task": "channels_app.tasks.webhook_events_reprocess_failed",
        "schedule": WEBHOOK_REPROCESS_SECONDS,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = ["inbox.login_throttle.ThrottledModelBackend"]
# Failed sign-ins (password or API token) after which a username or client address is
# locked out, and for how long (also the window the failures are counted in).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_SECONDS < 1:
    raise RuntimeError("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_SECONDS must be positive")

# Two-step sign-in (TOTP, inbox.two_factor): any operator may turn it on; the roles listed
# here (admin, supervisor, operator, separated by commas) must, and are sent to set it up
# after their password. Their sessions signed in without it are signed out.
TWO_FACTOR_REQUIRED_ROLES = env_list("TWO_FACTOR_REQUIRED_ROLES", "")
if unknown_roles := set(TWO_FACTOR_REQUIRED_ROLES) - {"admin", "supervisor", "operator"}:
    raise RuntimeError(
        f"TWO_FACTOR_REQUIRED_ROLES: {', '.join(sorted(unknown_roles))} is not a role "
        "(admin, supervisor, operator)"
    )
# The name authenticator apps show beside the username.
OTP_TOTP_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Switchboard")
# A code is accepted one 30-second step early or late, never further: django-otp's drift
# tracking, which would move that window, stays off.
OTP_TOTP_SYNC = False
# Between the password and the code (or setting the app up): after this the password is
# asked again.
TWO_FACTOR_PENDING_SECONDS = env_int("TWO_FACTOR_PENDING_SECONDS", 600)
if TWO_FACTOR_PENDING_SECONDS < 1:
    raise RuntimeError("TWO_FACTOR_PENDING_SECONDS must be positive")

# The languages the product speaks. LANGUAGE_CODE is the last fallback of an operator's
# pages and of what a customer reads (see customers.languages).
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("pl", "Polski")]
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en").strip().lower() or "en"
if LANGUAGE_CODE not in {code for code, _ in LANGUAGES}:
    raise RuntimeError(
        f"LANGUAGE_CODE={LANGUAGE_CODE!r}: choose one of {', '.join(c for c, _ in LANGUAGES)}"
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Where our corrections of Django's date formats for a language live.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
WHITENOISE_USE_FINDERS = IS_EMBEDDED or DEBUG
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if IS_EMBEDDED
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication, its token and user read in one query.
        "inbox.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "inbox.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "inbox.api.errors.json_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if IS_EMBEDDED or DEBUG else []),
}

# The API's schema and docs answer signed-in users (a session or a token) unless opened.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)
SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if API_DOCS_PUBLIC
        else "rest_framework.permissions.IsAuthenticated"
    ],
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Omnichannel support inbox: conversations, messages, customers, channels.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # A conversation's priority and an SLA policy's priorities are one set of values.
    "ENUM_NAME_OVERRIDES": {
        "PriorityEnum": "inbox.models.Priority",
        "FollowUpActionEnum": "inbox.follow_ups.models.FollowUpAction",
    },
    # Every operation's error answers, in the API's one error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inbox.api.schema_errors.error_responses_documented",
    ],
    # The docs page's scripts are served by us: it works offline and behind strict egress.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Product settings.
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 1024 * 1024)
# A raw event that still fails after this many runs (the first one included) is left
# failed for someone to look at; the runs before spread out over about a week.
WEBHOOK_REPROCESS_MAX_ATTEMPTS = env_int("WEBHOOK_REPROCESS_MAX_ATTEMPTS", 12)
# Production only: a known customer's message into an open conversation, or a new
# sender's first message, is stored on the event loop with async psycopg, messages that
# arrive together in one statement (channels_app.webhook_edge chooses the path,
# inbox.receiving.batched stores); everything else, and every error, takes the regular
# path.
WEBHOOK_FAST_PATH = env_bool("WEBHOOK_FAST_PATH", True)
WEBHOOK_FAST_PATH_CONNECTIONS = env_int("WEBHOOK_FAST_PATH_CONNECTIONS", 8)
# Email: one raw message on the webhook, or on the SMTP server, may be this large.
EMAIL_INBOUND_MAX_BYTES = env_int("EMAIL_INBOUND_MAX_BYTES", 25 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES, EMAIL_INBOUND_MAX_BYTES, 2_621_440)
# Any other request body (pages, forms, the API's JSON) may be this large; it is refused
# with 413 before authentication. Webhooks, widget uploads and replies with files have
# limits of their own (config.request_limits).
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 2_621_440)
# Widget sockets one client address (an IPv6 /64 counts as one) may hold open on one
# server process; more are refused at the handshake (close code 4429).
WIDGET_SOCKETS_PER_ADDRESS = env_int("WIDGET_SOCKETS_PER_ADDRESS", 50)
# Files fetched from a URL a customer or an admin named (an API channel's attachments):
# at most this large, and the whole download within this many seconds.
REMOTE_ATTACHMENT_MAX_BYTES = env_int("REMOTE_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
OUTBOUND_DOWNLOAD_SECONDS = env_float("OUTBOUND_DOWNLOAD_SECONDS", 120.0)
CONVERSATION_REOPEN_WINDOW_SECONDS = env_int("CONVERSATION_REOPEN_WINDOW_SECONDS", 7 * 24 * 3600)
# The conversations list's `sla=due_soon`: an SLA target due within this many minutes.
SLA_DUE_SOON_MINUTES = env_int("SLA_DUE_SOON_MINUTES", 30)
# Operators are warned live (`conversation.sla_due_soon`) this long before a target is due.
SLA_DUE_NOTICE_MINUTES = env_int("SLA_DUE_NOTICE_MINUTES", 10)
DELIVERY_MAX_RETRIES = env_int("DELIVERY_MAX_RETRIES", 5)
DELIVERY_RETRY_BASE_SECONDS = env_float("DELIVERY_RETRY_BASE_SECONDS", 2.0)
DELIVERY_TIMEOUT_SECONDS = env_float("DELIVERY_TIMEOUT_SECONDS", 10.0)
# Outgoing webhooks (inbox.outgoing_webhooks.deliveries): a failed attempt is tried again
# after each of these delays in turn (about 27 hours in all by default), and a
# subscription failing for WEBHOOK_DISABLE_AFTER_HOURS and at least
# WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row is switched off.
WEBHOOK_RETRY_DELAYS_SECONDS = [
    float(delay)
    for delay in env_list(
        "WEBHOOK_RETRY_DELAYS_SECONDS", "10,60,300,1800,3600,7200,14400,28800,43200"
    )
]
WEBHOOK_DISABLE_AFTER_HOURS = env_float("WEBHOOK_DISABLE_AFTER_HOURS", 72.0)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 30)
# A queued reply untouched for this long lost its task and is queued again.
DELIVERY_STUCK_AFTER_SECONDS = env_int("DELIVERY_STUCK_AFTER_SECONDS", 1800)
# A reply being sent (claimed by a task) for this long without news lost its worker:
# queued again where the platform drops repeats of its key, else left `unknown` for the
# operator. Longer than any one send may take (each part's DELIVERY_TIMEOUT_SECONDS).
DELIVERY_SENDING_DEADLINE_SECONDS = env_int("DELIVERY_SENDING_DEADLINE_SECONDS", 300)
if DELIVERY_SENDING_DEADLINE_SECONDS <= DELIVERY_TIMEOUT_SECONDS * 2:
    raise RuntimeError(
        "DELIVERY_SENDING_DEADLINE_SECONDS must exceed twice DELIVERY_TIMEOUT_SECONDS"
    )
# A survey queued or sending for longer than this is treated as interrupted.
CSAT_STALE_SECONDS = env_int("CSAT_STALE_SECONDS", 600)
# Survey requests each worker process keeps on their way to the platforms at once.
CSAT_SEND_CONCURRENCY = env_int("CSAT_SEND_CONCURRENCY", 32)

ACCESS_LOG = env_bool("ACCESS_LOG", False)
# Besides being told at once, each operator socket checks what its operator may see this
# often, so a change no announcement reached (another database client) still counts.
WEBSOCKET_ACCESS_RECHECK_SECONDS = env_float("WEBSOCKET_ACCESS_RECHECK_SECONDS", 60.0)

# Outgoing mail of email channels without an SMTP server of their own. Any Django mail
# backend works, anymail's included (EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if IS_EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
# An operator offline gets their notifications unread this long by email, as one digest.
NOTIFICATION_EMAIL_AFTER_MINUTES = env_int("NOTIFICATION_EMAIL_AFTER_MINUTES", 15)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", DELIVERY_TIMEOUT_SECONDS)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@switchboard.localhost")
# `manage.py smtp_inbound` listens here by default.
SMTP_INBOUND_HOST = os.environ.get("SMTP_INBOUND_HOST", "127.0.0.1")
SMTP_INBOUND_PORT = env_int("SMTP_INBOUND_PORT", 2525)
# Threads storing inbound mail, each holding a pooled database connection while it does
# (0: as many as the pool allows, at most 4); SMTP connections served at once.
SMTP_INBOUND_WORKERS = env_int("SMTP_INBOUND_WORKERS", 0)
SMTP_INBOUND_MAX_CONNECTIONS = env_int("SMTP_INBOUND_MAX_CONNECTIONS", 100)
# IMAP mailboxes: how often beat looks at them (a channel may ask for a longer interval).
IMAP_POLL_SECONDS = env_float("IMAP_POLL_SECONDS", 60.0)
IMAP_TIMEOUT_SECONDS = env_float("IMAP_TIMEOUT_SECONDS", 30.0)
IMAP_BATCH_SIZE = env_int("IMAP_BATCH_SIZE", 100)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs each request URL at INFO, and the Telegram Bot API puts the bot
        # token in the URL.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # aiosmtpd logs every connection at INFO.
        "mail.log": {"level": "WARNING"},
    },
}

# Personal data: conversations resolved longer ago than RETENTION_DAYS lose their text and
# files, and older attachments and raw webhook events are deleted, by beat every
# RETENTION_SWEEP_SECONDS (channels_app.services.erasure). 0 (the default) keeps everything.
RETENTION_DAYS = env_int("RETENTION_DAYS", 0)
RETENTION_SWEEP_SECONDS = env_float("RETENTION_SWEEP_SECONDS", 3600.0)
if RETENTION_DAYS < 0:
    raise RuntimeError("RETENTION_DAYS must be 0 (keep everything) or a number of days")
if RETENTION_DAYS:
    CELERY_BEAT_SCHEDULE["erase-expired-personal-data"] = {
        "task": "channels_app.tasks.personal_data_erase_expired",
        "schedule": RETENTION_SWEEP_SECONDS,
    }

# Widget identity: the site signs `user:<id>` and `email:<address>` (distinct messages, so a
# user id can never pass for an email). Hashes of the bare value, the earlier form, are
# still accepted up to and including this date (ISO, UTC) and logged; after it they are
# refused. Empty refuses them at once.
WIDGET_LEGACY_IDENTITY_HASH_UNTIL = os.environ.get(
    "WIDGET_LEGACY_IDENTITY_HASH_UNTIL", "2027-06-30"
).strip()
if WIDGET_LEGACY_IDENTITY_HASH_UNTIL:
    try:
        datetime.date.fromisoformat(WIDGET_LEGACY_IDENTITY_HASH_UNTIL)
    except ValueError as error:
        raise RuntimeError(
            "WIDGET_LEGACY_IDENTITY_HASH_UNTIL must be a date (YYYY-MM-DD) or empty"
        ) from error
