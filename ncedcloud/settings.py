"""Settings for the portal: one module, configured from the environment.

DEBUG is off unless the environment turns it on: ``make run`` (and the test suite, through
pytest-env) set ``DEBUG=True`` for the embedded default: a SQLite file under ``var/``, Celery
tasks run in process, email printed to the console and a fixed, public development secret
and encryption key. Outside DEBUG, or with DEBUG on for a host that is not this machine, the
app refuses to start with those public keys. Production differs only by environment values;
every variable is listed in the README's configuration table.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

DEBUG = env.bool("DEBUG", default=False)

# Public, well-known keys for the embedded default only: refused outside DEBUG, and in DEBUG
# for any host that is not this machine.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production-8c1f2e9a7b"
DEVELOPMENT_DEFAULT_PASSWORD_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1ub3Qtc2VjcmV0ISE="

SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
DEFAULT_PASSWORD_KEYS = env.list(
    "DEFAULT_PASSWORD_KEYS", default=[DEVELOPMENT_DEFAULT_PASSWORD_KEY] if DEBUG else []
)


def _refuse_insecure_production_settings() -> None:
    """Outside DEBUG, start only with a real secret key and real encryption keys."""
    problems = []
    if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append(
            "SECRET_KEY must be set to a random value of at least 50 characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(64))").'
        )
    if not DEFAULT_PASSWORD_KEYS or DEVELOPMENT_DEFAULT_PASSWORD_KEY in DEFAULT_PASSWORD_KEYS:
        problems.append(
            "DEFAULT_PASSWORD_KEYS must list one or more Fernet keys, newest first, and not "
            'the development key (python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())").'
        )
    if problems:
        problems.append(
            "(DEBUG is off unless set: for the embedded default on this machine, with its "
            "development keys, run `make run` or set DEBUG=True.)"
        )
        raise ImproperlyConfigured("Refusing to start with DEBUG off: " + " ".join(problems))


def _check_default_password_keys() -> None:
    from cryptography.fernet import Fernet

    for position, key in enumerate(DEFAULT_PASSWORD_KEYS, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"DEFAULT_PASSWORD_KEYS entry {position} is not a Fernet key: a key is 32 "
                "url-safe base64-encoded bytes, as Fernet.generate_key() makes."
            ) from None


# The names of this machine: DEBUG with the development keys serves these only.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1", "testserver")


def _refuse_development_keys_beyond_this_machine() -> None:
    """DEBUG on for a real host would publish stack traces with every setting and serve
    passwords encrypted under a key printed in this file: refuse, and say what to do."""
    remote = [
        host
        for host in ALLOWED_HOSTS
        if host not in LOCAL_HOSTS and not host.rstrip(".").endswith(".localhost")
    ]
    published = [
        name
        for name, in_use in (
            ("SECRET_KEY", SECRET_KEY == DEVELOPMENT_SECRET_KEY),
            ("DEFAULT_PASSWORD_KEYS", DEVELOPMENT_DEFAULT_PASSWORD_KEY in DEFAULT_PASSWORD_KEYS),
        )
        if in_use
    ]
    if remote and published:
        raise ImproperlyConfigured(
            f"Refusing to start with DEBUG on for {', '.join(remote)} (ALLOWED_HOSTS) with the "
            f"published development {' and '.join(published)}: anyone who reads this "
            "project's source can decrypt what such an app stores, and DEBUG shows every "
            "error's details to every visitor. For a real host set DEBUG=False, SECRET_KEY "
            "and DEFAULT_PASSWORD_KEYS; DEBUG with the development keys serves only "
            f"{', '.join(LOCAL_HOSTS[:3])}."
        )


ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=list(LOCAL_HOSTS[:3]) if DEBUG else [])
if DEBUG:
    _refuse_development_keys_beyond_this_machine()
else:
    _refuse_insecure_production_settings()
_check_default_password_keys()
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "ncedcloud.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "credentials",
    "people",
    "catalog",
    "rosters",
    "regeneration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ncedcloud.sessions.SessionMiddleware",  # Django's; a poll does not renew the session
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "people.student_auth.StudentSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "credentials.middleware.UndecryptablePasswordMiddleware",
]

ROOT_URLCONF = "ncedcloud.urls"
WSGI_APPLICATION = "ncedcloud.wsgi.application"

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
                "catalog.context_processors.approvals",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (or anything dj-database-url knows) from
# DATABASE_URL. Connections are reused and health-checked so a restarted PostgreSQL does
# not leave broken connections behind in long-lived worker processes.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind pgbouncer in transaction mode a server-side cursor (a streamed handout, outside a
# transaction) cannot outlive its transaction: set True there (README, "Running a state").
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)
if (
    DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
    and not (DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"])
):
    # Our server-side cursors (``.iterator()``) are always read to the end, so PostgreSQL is
    # told to plan them for every row, not for the first tenth (its default 0.1 chose a
    # fast-start plan that read a 160,000-student handout in 7 s instead of 1.6, right after
    # the request wrote its outcomes). Sent at connect; behind pgbouncer, which would refuse
    # the startup option, there are no server-side cursors to plan.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c cursor_tuple_fraction=1"
    )
# Django's cache: short-lived counts only (see REGENERATION_SIGN_IN_COUNTS_SECONDS), so the
# default, each process its own memory, is correct; Redis shares them between web processes.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a busy writer instead of failing at once; tasks run in process here.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

# Each is Django's or axes's own, with every local variable hidden from error reports (a
# password passes through each).
AUTHENTICATION_BACKENDS = [
    "people.backends.ThrottleBackend",
    "people.backends.StaffBackend",
    "people.backends.StudentBackend",
]

# The preferred hasher is the first; the encrypted temporary hasher is never preferred, so
# Django re-hashes a reset password at full strength on the first successful sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "credentials.hashers.EncryptedTemporaryPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: console by default, any backend from EMAIL_URL (e.g. smtp+tls://user:pw@host:587).
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="NCEdCloud Portal <noreply@localhost>")
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Sessions: staff sessions end after 30 minutes idle (ASVS 3.3.2); cookies are HttpOnly,
# SameSite=Lax, and Secure outside DEBUG.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    if env.bool("USE_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Permissions-Policy (django-permissions-policy): no page uses any of these browser features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "clipboard-read",
        "display-capture",
        "document-domain",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "interest-cohort",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "shared-storage",
        "speaker-selection",
        "usb",
        "web-share",
        "window-management",
        "xr-spatial-tracking",
    )
}

# Client addresses (sign-in throttles, the disclosure audit): REMOTE_ADDR, unless the app sits
# behind this many proxies of our own, each appending the address it was reached from to
# X-Forwarded-For (then the address the outermost one saw). 0: the header is ignored, since a
# client can write anything in it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Content-Security-Policy: everything from this app, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Upload and form limits: a clear error instead of memory exhaustion.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# django-axes: throttle repeated failures per account; a whole school shares one address, so
# the address has a budget of its own, far larger (below). The cool-off is finite.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address in the lockout key; we leave it out on purpose (above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout; attempts during it do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "people.backends.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Every password field of the sign-in and change pages is masked in what axes stores.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "password",
    "current_password",
    "new_password1",
    "new_password2",
]
AXES_CLIENT_IP_CALLABLE = "ncedcloud.client_address.client_address"
# The per-address budget beside the per-account lockout (people.throttle): failures of staff
# sign-in, student sign-in and the student's change-password page from one address in the
# last hour; over it every sign-in from that address is refused, even with the right
# password, until the hour's oldest failures age out. 300 an hour lets a school of 1,500
# students behind one address have one in five mistype once in its busiest hour.
SIGNIN_ADDRESS_FAILURE_LIMIT = env.int("SIGNIN_ADDRESS_FAILURE_LIMIT", default=300)
AXES_HANDLER = "people.throttle.PortalAxesHandler"
AXES_LOCKOUT_CALLABLE = "people.throttle.lockout_response"

# Celery. Without CELERY_BROKER_URL tasks run in process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Work must not be lost: acknowledge after the task ran, re-queue when the pool process
# dies, take one message at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# No task comes near Redis's visibility timeout: a request runs as short task slices
# (REGENERATION_TASK_BUDGET_SECONDS) that re-enqueue themselves.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Publishing gives up quickly when Redis is unreachable instead of retrying for
    # seconds: the request is already recorded as queued and the sweep dispatches it later.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The benchmark's workers take their own queue, so a running worker never takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="regeneration")
CELERY_BEAT_SCHEDULE = {
    "sweep-regeneration-requests": {
        "task": "regeneration.sweep",
        "schedule": env.float("REGENERATION_SWEEP_SECONDS", default=15.0),
    },
    "expire-kept-credentials": {
        "task": "regeneration.expire_kept_credentials",
        "schedule": 3600.0,
    },
    # Role grants past their end date become Expired, and their holders are emailed.
    "expire-role-grants": {
        "task": "catalog.expire_role_grants",
        "schedule": 3600.0,
    },
}

# Regeneration.
REGENERATION_CHUNK_SIZE = env.int("REGENERATION_CHUNK_SIZE", default=2000)
# Chunks a task runs at once on PostgreSQL, each in a thread with its own database connection
# (so a worker process holds this many connections while it runs a request).
REGENERATION_PARALLEL_CHUNKS = env.int("REGENERATION_PARALLEL_CHUNKS", default=2)
# Each task that runs lanes also runs an express lane (one more thread and connection) that
# starts and serves only requests with at most this many students left, so a small request
# confirmed while a district runs does not wait for the chunk in hand; 0 turns it off.
REGENERATION_EXPRESS_LANE_STUDENTS = env.int("REGENERATION_EXPRESS_LANE_STUDENTS", default=2000)
REGENERATION_TASK_BUDGET_SECONDS = env.float("REGENERATION_TASK_BUDGET_SECONDS", default=20.0)
# Lanes serve the running request with the fewest students left first; one that has waited
# longer than this since Confirm without a first chunk goes ahead of that order.
REGENERATION_FIRST_CHUNK_SECONDS = env.float("REGENERATION_FIRST_CHUNK_SECONDS", default=5.0)
# The progress answer of a finished request counts its sign-ins at most this often.
REGENERATION_SIGN_IN_COUNTS_SECONDS = env.int("REGENERATION_SIGN_IN_COUNTS_SECONDS", default=30)
REGENERATION_STALE_AFTER_SECONDS = env.int("REGENERATION_STALE_AFTER_SECONDS", default=60)
REGENERATION_HASH_AT_REQUEST_TIME = env.bool("REGENERATION_HASH_AT_REQUEST_TIME", default=False)
REGENERATION_HASHED_CHUNK_SIZE = env.int("REGENERATION_HASHED_CHUNK_SIZE", default=50)
REGENERATION_MAX_CAMPUS_CODES = env.int("REGENERATION_MAX_CAMPUS_CODES", default=200)
REGENERATION_MAX_COMMENT_LENGTH = env.int("REGENERATION_MAX_COMMENT_LENGTH", default=2000)
# The password formats per grade (credentials.policy); empty: the documented default tiers.
# A JSON list of objects with the fields of credentials.policy.PasswordTier, e.g.
# [{"name": "all", "grades": ["0", "5"], "length": 16}].
REGENERATION_PASSWORD_TIERS = env.json("REGENERATION_PASSWORD_TIERS", default=[])
# Days after which a login password set by a reset, and never used, stops working (0: never).
TEMPORARY_PASSWORD_EXPIRY_DAYS = env.int("TEMPORARY_PASSWORD_EXPIRY_DAYS", default=30)
# The printable cards page renders at most this many cards at once; a larger request is
# handed out a campus (and, for a very large campus, a grade) at a time.
HANDOUT_CARDS_MAX_STUDENTS = env.int("HANDOUT_CARDS_MAX_STUDENTS", default=1500)
# OneRoster rosters (rosters.oneroster): the CEDS grade code of a student's ``grades`` ->
# the portal's grade. Pre-kindergarten codes count the years before kindergarten (PK, the year
# before, is -1); -4 and -5 have no CEDS code. A JSON object here replaces single codes, e.g.
# {"PS": "13", "Other": "-9"}; a code with no mapping is a bad row.
ONEROSTER_GRADES = {
    "IT": "-3",
    "PR": "-2",
    "PK": "-1",
    "TK": "-1",
    "KG": "0",
    **{f"{n:02d}": str(n) for n in range(1, 13)},
    "13": "13",
    "UG": "-9",
    **env.json("ONEROSTER_GRADES", default={}),
}
# The passwords a request set are kept (encrypted, with its outcomes) for its handouts this
# many days after it finished, then removed by the hourly sweep.
HANDOUT_RETENTION_DAYS = env.int("HANDOUT_RETENTION_DAYS", default=30)
# A finished or cancelled request can be undone this many days; then the previous credentials
# kept for it are removed.
REGENERATION_UNDO_DAYS = env.int("REGENERATION_UNDO_DAYS", default=7)
# Confirm asks the requester to type the number of students above this many.
REGENERATION_CONFIRM_TYPING_THRESHOLD = env.int(
    "REGENERATION_CONFIRM_TYPING_THRESHOLD", default=1000
)
# A UID file (File Upload request) may hold at most this many bytes.
REGENERATION_UID_FILE_MAX_BYTES = env.int("REGENERATION_UID_FILE_MAX_BYTES", default=4_000_000)
# The portal's address in emails and on printed cards; empty: the address it was reached at.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
