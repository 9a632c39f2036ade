"""Settings for the shop: one module, driven entirely by the environment.

Every variable is listed in `.env.example`. Nothing secret has a default that
could reach production: with DEBUG off, SECRET_KEY must come from the environment.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import multiprocess

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `.env` (see .env.example) unless ENV_FILE names another file; the tests set it empty so
# that a developer's .env (DEBUG=true, a Redis URL...) never changes what they prove.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # catalog search's lookups (shop.search); inert on SQLite
    "django_filters",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "treebeard",
    "easy_thumbnails",
    "shop",
    "pages",
    "orders",
    "pricing",
    "payments",
    "wallets",
    "merchants",
    "marketplace",
    "audit",
    "core",
    "csp",
    "axes",
    "django_countries",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audit.middleware.RequestIdMiddleware",
    "config.middleware.RequestObservabilityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.middleware.RejectControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's order): the language of the request.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.GuestSectionsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Brute-force protection for every login that passes a request (HTML, admin, API token).
AUTHENTICATION_BACKENDS = [
    "config.security.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"

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
                "shop.context_processors.storefront",
                "config.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Unset DATABASE_URL means the embedded SQLite database used by `make run`.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: IMMEDIATE transactions take the write lock at BEGIN,
    # so concurrent checkouts serialize instead of failing halfway with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
elif env.bool("DATABASE_POOL", default=False):
    if env.bool("DATABASE_PGBOUNCER", default=False):
        raise ImproperlyConfigured("DATABASE_POOL and DATABASE_PGBOUNCER: pick one pool.")
    # psycopg's pool, per process; it replaces persistent connections (CONN_MAX_AGE 0).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=8),
    }
else:
    # A kept connection to PgBouncer holds no server connection between transactions,
    # so CONN_MAX_AGE works the same with or without it.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.bool("DATABASE_PGBOUNCER", default=False):
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_PGBOUNCER needs a postgres:// DATABASE_URL.")
    # PgBouncer in transaction mode hands each transaction any server connection, so
    # nothing may outlive a transaction: no server-side cursors (a named cursor lives in
    # the session) and no prepared statements (psycopg prepares per session; None turns
    # them off). The code keeps no other session state: no SET, no advisory locks.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "shop.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = env("REDIS_URL", default="")
# Seconds to connect to Redis and to wait for each answer. Redis answers in a millisecond;
# a Redis that is down or hung costs a request at most this once, then the cache skips it
# for CACHE_RETRY_SECONDS (config.cache).
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
CACHE_RETRY_SECONDS = 5
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, failing open: without Redis the throttles let requests
            # through, cached pages are rendered afresh and sessions come from the database.
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    # Sessions live in Redis and fall back to the database, so any web replica serves any user.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (config/celery.py). Unset broker: no Redis, tasks run in-process
# (eagerly) right after the commit that enqueued them: development and the test suite.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = (
    env.bool("CELERY_TASK_ALWAYS_EAGER")
    if env("CELERY_TASK_ALWAYS_EAGER", default="")
    else CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = False  # an email failing eagerly never fails the request
CELERY_TASK_IGNORE_RESULT = True  # no result backend: tasks leave their results in the database
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves it on the queue for another
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# With no worker and no beat to dispatch the email outbox (orders.emails), send each
# email in-process right after the commit that wrote it.
EMAIL_SEND_ON_COMMIT = CELERY_TASK_ALWAYS_EAGER
# Nightly: report products whose `reserved` differs from their pending orders; only
# with this on does the job also correct it (through shop.inventory.correct_reserved).
STOCK_DRIFT_AUTOFIX = env.bool("STOCK_DRIFT_AUTOFIX", default=False)
# Payloads of processed Stripe events are emptied after this many days (failed ones kept).
WEBHOOK_PAYLOAD_RETENTION_DAYS = env.int("WEBHOOK_PAYLOAD_RETENTION_DAYS", default=30)

# The storefront speaks English and German: LocaleMiddleware picks one per request (the
# language switcher's cookie, then the browser's Accept-Language), English otherwise.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
# The shop's own catalogs (German); `make test` checks they are complete and compiled
# (scripts/check_translations.py).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded media (product images and their thumbnails). Unset MEDIA_BUCKET: files under
# MEDIA_ROOT, served at MEDIA_URL by `runserver` (development). Set: an S3-compatible
# bucket through django-storages (production: web nodes keep no files), with the keys
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment (or the instance's
# role); MEDIA_ENDPOINT_URL for another provider than AWS (MinIO, R2...), MEDIA_DOMAIN
# for a CDN or public host name in front of the bucket.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_BUCKET = env("MEDIA_BUCKET", default="")
# The largest image file staff may upload, in bytes, and the range of its sides in pixels.
PRODUCT_IMAGE_MAX_BYTES = env.int("PRODUCT_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
PRODUCT_IMAGE_MIN_SIDE = 200
PRODUCT_IMAGE_MAX_SIDE = 6000
MEDIA_IMG_SOURCES = []  # where pages load media from, besides 'self' (CSP img-src below)
if MEDIA_BUCKET:
    _media_domain = env("MEDIA_DOMAIN", default="")
    _media_endpoint = urlsplit(env("MEDIA_ENDPOINT_URL", default=""))
    _media_region = env("MEDIA_REGION", default="")
    if _media_domain:
        MEDIA_IMG_SOURCES = [f"https://{_media_domain}"]
    elif _media_endpoint.netloc:  # path-style and virtual-hosted URLs of the provider
        _scheme, _host = _media_endpoint.scheme, _media_endpoint.netloc
        MEDIA_IMG_SOURCES = [f"{_scheme}://{_host}", f"{_scheme}://{MEDIA_BUCKET}.{_host}"]
    else:
        MEDIA_IMG_SOURCES = [f"https://{MEDIA_BUCKET}.s3.amazonaws.com"] + (
            [f"https://{MEDIA_BUCKET}.s3.{_media_region}.amazonaws.com"] if _media_region else []
        )
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_BUCKET,
            "region_name": _media_region or None,
            "endpoint_url": _media_endpoint.geturl() or None,
            "custom_domain": _media_domain or None,
            # Product images are public: plain URLs, no signature that expires in a
            # cached page; the bucket (or its CDN) grants public read.
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Unset EMAIL_URL: the console in development (`make run`); with DEBUG off an SMTP server on
# localhost, never the console, which would print every customer's address and order into
# the worker's log. If none listens there, the outbox keeps the emails and retries.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@localhost")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)  # seconds; an email task never hangs
# Absolute links in emails (they have no request to build them from).
SHOP_BASE_URL = env("SHOP_BASE_URL", default="http://localhost:8000").rstrip("/")
# The shop's name and the address customers write to: page titles, meta and Open Graph
# tags, the footer and the contact page.
SHOP_NAME = env("SHOP_NAME", default="Shop")
SHOP_CONTACT_EMAIL = env("SHOP_CONTACT_EMAIL", default="hello@example.com")

# The shop sells in one currency; order money is Decimal, Stripe gets minor units.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="usd").lower()
# Seconds the public product list (API) is served from the cache; stock shown there may
# be this old, checkout always re-checks it.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=5)
RESERVATION_TTL = timedelta(seconds=env.int("RESERVATION_TTL", default=900))
# The shop's fee on a merchant's lines of a paid order, in percent (wallets.earnings).
MARKETPLACE_FEE_PERCENT = Decimal(env("MARKETPLACE_FEE_PERCENT", default="10"))
if not Decimal("0") <= MARKETPLACE_FEE_PERCENT <= Decimal("100"):
    raise ImproperlyConfigured("MARKETPLACE_FEE_PERCENT must be between 0 and 100.")

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# A web thread waits for Stripe at most (retries + 1) x (connect + read) seconds plus the
# SDK's back-off between tries (0.5 s for the first retry): 14.5 s with these defaults,
# 10.5 s when Stripe accepts the connection and never answers (payments.gateway).
# Retries reuse the same idempotency key, so they never duplicate a charge or refund.
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=2.0)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=5.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)

JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
if not JWT_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY must be set in the environment when DEBUG is off."
        )
    JWT_SIGNING_KEY = "development-only-jwt-signing-key"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's JSON parser with a nesting limit and no control characters (core.untrusted).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Proxies in front of the app, so throttles see the client's address, not the proxy's.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("THROTTLE_AUTH", default="10/min"),
        "guest": env("THROTTLE_GUEST", default="10/min"),
        "checkout": env("THROTTLE_CHECKOUT", default="30/min"),
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "The shop's JSON API (v1): catalog, cart, checkout, orders, payments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the ISO country codes every address, tax rate and method uses.
    "ENUM_NAME_OVERRIDES": {"CountryEnum": "django_countries.countries"},
}

# Transport security: on by default whenever DEBUG is off (TLS ends at the proxy).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes and the metrics scrape come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# The language switcher's cookie: sent like the session's, never read by scripts.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy (django-csp 4): our own files, plus exactly the sources Stripe
# documents for Stripe.js and the Payment Element. No inline scripts or styles anywhere.
# config.middleware.ContentSecurityPolicyMiddleware adds STRIPE_API_BASE (the simulator)
# to connect-src when it is set, since the payment page then talks to it from the browser.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"],
        "frame-src": [
            "https://js.stripe.com",
            "https://*.js.stripe.com",
            "https://hooks.stripe.com",
        ],
        "connect-src": ["'self'", "https://api.stripe.com"],
        "img-src": ["'self'", "data:", "https://*.stripe.com", *MEDIA_IMG_SOURCES],
        "style-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Login brute-force protection (django-axes, config/security.py explains it): within
# AXES_COOLOFF_TIME, LOGIN_FAILURES_PER_CLIENT failures of one account from one address
# lock that pair, LOGIN_FAILURES_PER_IP from one address lock the address, and
# LOGIN_FAILURES_PER_ACCOUNT of one account from anywhere slow the account down (429 with
# Retry-After) except at addresses it signed in from before; a password reset clears it.
AXES_FAILURE_LIMIT = "config.security.failure_limit"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_HANDLER = "config.security.LoginLockoutHandler"
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_RESET_ON_SUCCESS = True
# A refused attempt checks no password: it must not extend the block.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# One row per failure, with its time: what the limits count (config.security.login_block).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field holds the email
AXES_USERNAME_CALLABLE = "config.security.attempted_username"
AXES_IPWARE_PROXY_COUNT = env.int("NUM_PROXIES", default=None)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)
LOGIN_FAILURES_PER_CLIENT = env.int("LOGIN_FAILURES_PER_CLIENT", default=5)
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=100)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=100)

# Prometheus metrics at /metrics: staff, or a scraper from one of these networks.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32"])
# Processes that add up their samples (gunicorn's workers, a Celery worker's pool) write
# them in this directory; created now if missing, before any metric is defined.
PROMETHEUS_MULTIPROC_DIR = multiprocess.prepare()
# The Celery worker serves its own metrics (tasks, emails, expiries, reconciliation) on
# this port, to the same METRICS_ALLOWED_NETWORKS; 0 turns it off.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=9808)
WORKER_METRICS_ADDR = env("WORKER_METRICS_ADDR", default="0.0.0.0")  # noqa: S104 - allow-listed

# Structured JSON logs on stdout (config/logging.py); LOG_FORMAT=console for humans.
from config.logging import build_logging  # noqa: E402

LOGGING = build_logging(
    level=env("LOG_LEVEL", default="INFO"), fmt=env("LOG_FORMAT", default="json")
)
