"""Cohortly settings: one module, every deployment-specific value from the environment.

`DJANGO_ENV` is `development` (default), `test` or `production`. Development and test get
defaults that work on a fresh machine; production has no default for anything secret and
refuses to start without it.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()
# pytest sets PYTEST_VERSION before anything is imported: the test suite needs no extra flag.
DJANGO_ENV = env.str(
    "DJANGO_ENV", default="test" if "PYTEST_VERSION" in os.environ else "development"
)
if DJANGO_ENV not in {"development", "test", "production"}:
    raise environ.ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    REDIS_URL = env.str("REDIS_URL")
    DEBUG = False
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="development-only-secret-key-never-used-in-production"
    )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1"])
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cohortly")
    }
    REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
    DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")

if DJANGO_ENV == "test":
    # Parallel test processes share one Redis server; each gets a database number of its own,
    # and keys prefixed by its process id so that two runs at once never see each other's.
    _worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{1 + _worker}"))
    TEST_REDIS_PREFIX = f"test-{os.getpid()}:"

DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Tenancy -------------------------------------------------------------------------------
# Users, sessions, permissions and the admin live in each institution's schema, so a session or
# a permission of one institution cannot exist in another. The public schema keeps its own copy
# of those tables for platform operators only.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.admin",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "accounts",
    "audit",
    "notifications",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "guardian",
    "axes",
    "accounts",
    "audit",
    "notifications",
    "signing",
    "learners",
    "academics",
    "cohorts",
    "enrolments",
    "verification",
    "integrations",
    "sponsors",
    "delivery",
    "placements",
    "workplace",
    "partners",
    "finance",
    "projects",
    "reports",
    "privacy",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
INSTALLED_APPS.append("config.apps.CohortlyConfig")  # the project's system checks

# A signer whose link expires within this long gets one reminder, with a fresh link.
SIGNING_REMINDER_BEFORE = timedelta(days=2)
# An RFC 3161 time-stamp authority: with one, every seal is PAdES B-LT (time-stamped, with its
# validation data embedded); empty, B-B as before and no network call while sealing.
SIGNING_TIMESTAMP_URL = env.str("SIGNING_TIMESTAMP_URL", default="")
# PEM file with the root certificate(s) the authority's tokens chain to: required with
# SIGNING_TIMESTAMP_URL (a system check says so); the web's TLS roots are never used for it.
SIGNING_TIMESTAMP_TRUST_ROOTS = env.str("SIGNING_TIMESTAMP_TRUST_ROOTS", default="")
SIGNING_TIMESTAMP_TIMEOUT = env.int("SIGNING_TIMESTAMP_TIMEOUT", default=10)
TENANT_MODEL = "tenants.Institution"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# New institutions are cloned from this migrated schema instead of replaying every migration.
TENANT_BASE_SCHEMA = "institution_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Ready clones of the template kept waiting (schemas named pool_*): provisioning renames one
# instead of cloning while the operator waits. Refilled by a task after each provisioning.
TENANT_SCHEMA_POOL_SIZE = env.int("TENANT_SCHEMA_POOL_SIZE", default=2)
# The host names: the platform lives on PLATFORM_DOMAIN, an institution on <code>.PLATFORM_DOMAIN.
PLATFORM_DOMAIN = env.str("PLATFORM_DOMAIN", default="localhost")
PLATFORM_SCHEME = env.str("PLATFORM_SCHEME", default="https" if PRODUCTION else "http")
PLATFORM_PORT = env.str("PLATFORM_PORT", default="" if PRODUCTION else "8000")

MIDDLEWARE = [
    # /healthz and /readyz: answered on any host, before the institution lookup.
    "config.middleware.ProbeMiddleware",
    "audit.middleware.ClientAddressMiddleware",
    "tenants.middleware.InstitutionRoutingMiddleware",
    "tenants.middleware.InstitutionTimeZoneMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenants.middleware.SuspendedInstitutionMiddleware",
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Static files straight from gunicorn; in development runserver serves them.
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                      "whitenoise.middleware.WhiteNoiseMiddleware")  # fmt: skip

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
                "tenants.context_processors.institution",
            ],
        },
    },
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
WSGI_APPLICATION = "config.wsgi.application"

# --- Accounts and security -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if DJANGO_ENV == "test":
    # Argon2 is slow on purpose; the suite hashes thousands of passwords.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 2)
INVITATION_TTL = timedelta(hours=env.int("INVITATION_TTL_HOURS", default=72))

# Idle timeout: the session lives SESSION_IDLE_MINUTES after the last request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Brute force: lock the (e-mail, IP) pair, never the e-mail alone, so that an attacker cannot
# lock a victim out of their own account.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # Django's sign-in form field, holding the e-mail
AXES_USERNAME_CALLABLE = "accounts.security.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # says how long the lock lasts
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True  # the lock-out page says so
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

GUARDIAN_MONKEY_PATCH_USER = False
ANONYMOUS_USER_NAME = None

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# How many reverse proxies stand in front of the app, each adding the address it was reached from
# to X-Forwarded-For (docker-compose.yml: put one TLS-terminating proxy in front, so 1).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Cache, Celery ---------------------------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int | str] = {"visibility_timeout": 60 * 60}
if DJANGO_ENV == "test":
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = TEST_REDIS_PREFIX
    CACHES["default"]["KEY_PREFIX"] = TEST_REDIS_PREFIX
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "notifications.*": {"queue": "notifications"},
    "cohorts.student_import_*": {"queue": "imports"},
    "integrations.*": {"queue": "sync"},
}
CELERY_BEAT_SCHEDULE = {
    # Daily: access-request ZIPs past the institution's report expiry are deleted.
    "privacy-access-requests-expire": {
        "task": "privacy.access_requests_expire_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    "notifications-sweep-outbox": {
        "task": "notifications.sweep_outbox_all_institutions",
        "schedule": 60.0,
    },
    "cohorts-discard-stale-imports": {
        "task": "cohorts.student_imports_discard_stale_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    # Student imports whose task was never queued or was lost, or whose worker died.
    "cohorts-sweep-student-imports": {
        "task": "cohorts.student_imports_sweep_all_institutions",
        "schedule": 30.0,
    },
    # Institutions operators asked for whose task was never queued or was lost, or whose
    # worker died (public schema only).
    "tenants-sweep-provisioning-requests": {
        "task": "tenants.provisioning_requests_sweep",
        "schedule": 30.0,
    },
    "enrolments-scan-sweep": {
        "task": "enrolments.document_scan_sweep_all_institutions",
        "schedule": 60.0 * 10,
    },
    # Sync jobs whose task was lost, whose retry is due or whose worker died.
    "integrations-sweep-sync-jobs": {
        "task": "integrations.sync_jobs_sweep_all_institutions",
        "schedule": 30.0,
    },
    # Hourly: each reminder is due on its own cadence, checked under a lock, never sent twice.
    "enrolments-send-reminders": {
        "task": "enrolments.send_reminders_all_institutions",
        "schedule": 60.0 * 60,
    },
    # Daily: cleared vetting past its expiry date expires; a month before, the learner's admins
    # are warned once.
    "placements-expire-vetting": {
        "task": "placements.vetting_expire_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    # Addresses whose lookup is pending (its task lost, the geocoder down) are looked up again.
    "placements-geocode-sweep": {
        "task": "placements.geocode_sweep_all_institutions",
        "schedule": 60.0 * 10,
    },
    # Daily: assessors' and moderators' registrations a month from expiring are warned about
    # once per expiry date.
    "workplace-warn-registration-expiry": {
        "task": "workplace.registration_expiry_warn_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    # Hourly: a link is reminded once, when it comes within SIGNING_REMINDER_BEFORE of expiring.
    "signing-send-link-reminders": {
        "task": "signing.send_link_reminders_all_institutions",
        "schedule": 60.0 * 60,
    },
    # Daily: grant claims that have fallen due (learners reaching a milestone) are made.
    "finance-grant-claims-bring-up-to-date": {
        "task": "finance.grant_claims_bring_up_to_date_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    # Hourly: scheduled report definitions whose time has come run, each once.
    "reports-run-due-definitions": {
        "task": "reports.report_definitions_run_due_all_institutions",
        "schedule": 60.0 * 60,
    },
    # Report runs and evidence packs whose task was never queued or was lost are queued again;
    # those whose worker died are failed.
    "reports-sweep-runs": {
        "task": "reports.reports_sweep_all_institutions",
        "schedule": 60.0 * 2,
    },
    # Daily: report results and evidence packs past their expiry are deleted (the rows stay,
    # as expired).
    "reports-expire-results": {
        "task": "reports.report_executions_expire_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    # Daily: project milestones past their due date are marked delayed; the leader and the
    # mentors are told once per due date.
    "projects-mark-delayed-milestones": {
        "task": "projects.milestones_mark_delayed_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
    # Daily: the data protection jobs (archive, anonymise, retire sealed records, purge
    # deleted accounts), each recorded.
    "privacy-data-protection-jobs": {
        "task": "privacy.data_protection_jobs_run_all_institutions",
        "schedule": 60.0 * 60 * 24,
    },
}

# --- Reports ---------------------------------------------------------------------------------
# A PDF lays out its whole table in memory: longer reports are refused with a pointer to CSV or
# XLSX, which stream any number of rows.
REPORTS_PDF_MAX_ROWS = env.int("REPORTS_PDF_MAX_ROWS", default=2000)

# --- Integrations (outbound sync) -----------------------------------------------------------
# Connectors an institution may choose (integrations.models.ConnectorConfig.connector).
SYNC_CONNECTORS = {
    "training_gateway": "integrations.connectors.training_gateway.TrainingGatewayConnector",
}
# Fernet key for connector credentials at rest; outside production, derived from SECRET_KEY.
INTEGRATIONS_ENCRYPTION_KEY = (
    env.str("INTEGRATIONS_ENCRYPTION_KEY")
    if PRODUCTION
    else env.str("INTEGRATIONS_ENCRYPTION_KEY", default="")
)

# --- Geocoding (placements.geocoding) ------------------------------------------------------
# A Nominatim-style search endpoint (GET ?q=<address>&format=jsonv2&limit=1 answering
# [{"lat": "...", "lon": "..."}]); unset, addresses are not looked up and coordinates are
# entered by hand.
GEOCODER_URL = env.str("GEOCODER_URL", default="")
GEOCODER_API_KEY = env.str("GEOCODER_API_KEY", default="")
GEOCODER_TIMEOUT_SECONDS = env.float("GEOCODER_TIMEOUT_SECONDS", default=5.0)

# Master keys wrapping each institution's data keys for ID numbers (learners.keys): base64, 32
# bytes each, comma-separated, the first current. Outside production, derived from SECRET_KEY.
LEARNER_MASTER_KEYS = (
    env.list("LEARNER_MASTER_KEYS") if PRODUCTION else env.list("LEARNER_MASTER_KEYS", default=[])
)

# --- Files -----------------------------------------------------------------------------------
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(DATA_DIR / "media"))
MEDIA_URL = "/media/"
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
# Every stored path starts with the schema name (see tenants.storage).
FILE_STORAGE_BACKEND = env.str("FILE_STORAGE_BACKEND", default="local")
STORAGES = {
    "default": {
        "BACKEND": "tenants.storage.TenantS3Storage"
        if FILE_STORAGE_BACKEND == "s3"
        else "tenants.storage.TenantFileSystemStorage",
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
AWS_QUERYSTRING_EXPIRE = 300
AWS_DEFAULT_ACL = None

# --- Uploads ---------------------------------------------------------------------------------
UPLOAD_MAX_IMAGE_PIXELS = env.int("UPLOAD_MAX_IMAGE_PIXELS", default=40_000_000)
UPLOAD_ENROLLMENT_QUOTA_MB = env.int("UPLOAD_ENROLLMENT_QUOTA_MB", default=100)
# host:port of a ClamAV daemon; empty: no scanning. Its StreamMaxLength must exceed the largest
# document type's limit (up to 50 MB), or those scans end in `error`.
CLAMAV_ADDRESS = env.str("CLAMAV_ADDRESS", default="")
CLAMAV_TIMEOUT = env.int("CLAMAV_TIMEOUT", default=30)

# --- E-mail ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cohortly <no-reply@cohortly.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if PRODUCTION or env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    # Development: every message is a file under .data/mail/ that a person can open.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"

# --- Locale ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-za"
TIME_ZONE = "Africa/Johannesburg"
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Logging: every line carries the request's correlation id ------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "audit.logging.CorrelationIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(schema)s %(name)s: "
            "%(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["correlation"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # pypdf warns about every oddity of a hostile PDF; the refusal already says what matters.
    # pikepdf announces itself at INFO in every process that imports it, every command included.
    "loggers": {
        "axes": {"level": "WARNING"},
        "pypdf": {"level": "ERROR"},
        "pikepdf": {"level": "WARNING"},
    },
}
