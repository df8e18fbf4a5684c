"""One settings file for every environment; everything that differs comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # Fail closed: a published development key would let anyone forge sessions and resets.
    if not DEBUG:
        raise ImproperlyConfigured(
            'SECRET_KEY is not set. Set it to a long random value (python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"), or DEBUG=1 for development on this machine.'
        )
    SECRET_KEY = "insecure-development-key-change-me-" + "x" * 20
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Kolkata")
USE_TZ = True
# A hospital number as the hospital writes it (IW000123, MH/2024/0012, a 14-digit ABHA number);
# a hospital may enforce its own format with a stricter pattern.
UHID_PATTERN = os.environ.get("UHID_PATTERN", r"[A-Za-z0-9](?:[A-Za-z0-9/-]{0,30}[A-Za-z0-9])?")
LANGUAGE_CODE = "en"
USE_I18N = True

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
IS_MONGODB = DATABASE_URL.startswith(("mongodb://", "mongodb+srv://"))

# The contrib and third-party apps with models need MongoDB's ObjectId keys and their own
# migrations there; the project's apps use string keys and share one set of migrations.
MONGO_MIGRATED_APPS = [
    "admin", "auth", "contenttypes", "auditlog", "django_tasks_database",
    "axes", "knox", "otp_totp",
]  # fmt: skip
if IS_MONGODB:
    from urllib.parse import urlsplit

    DATABASES = {
        "default": {
            "ENGINE": "django_mongodb_backend",
            "HOST": DATABASE_URL,
            # Read the name from the path: pymongo's parse_uri would resolve mongodb+srv in DNS
            # at import, so settings (and `check --deploy`) would need the network.
            "NAME": urlsplit(DATABASE_URL).path.strip("/") or "clinic",
        }
    }
    CONTRIB_APPS = [
        "clinic.mongo_apps.MongoAdminConfig",
        "clinic.mongo_apps.MongoAuthConfig",
        "clinic.mongo_apps.MongoContentTypesConfig",
        "clinic.mongo_apps.MongoAuditlogConfig",
        "clinic.mongo_apps.MongoAxesConfig",
        "clinic.mongo_apps.MongoKnoxConfig",
        "clinic.mongo_apps.MongoTOTPDeviceConfig",
    ]
    MIGRATION_MODULES = {app: f"clinic.mongo_migrations.{app}" for app in MONGO_MIGRATED_APPS}
    DATABASE_ROUTERS = ["django_mongodb_backend.routers.MongoRouter"]
    # django-tasks-db's priority range check: MongoDB has no check constraints, and the
    # library only writes priorities it has validated.
    SILENCED_SYSTEM_CHECKS = ["models.W027"]
    DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
else:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + IMMEDIATE lets several gunicorn workers write without "database is locked".
        DATABASES["default"]["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    CONTRIB_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "auditlog",
        "axes",
        "knox",
        "django_otp.plugins.otp_totp",
    ]
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    *CONTRIB_APPS,
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_otp",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "patients",
    "queue_app",
    "oncology",
    "documents",
    "legacy",
    # Last, so its post_migrate handler (role groups) runs after every app's permissions exist.
    "clinic",
]

MIDDLEWARE = [
    # First: everything after it (audit, lock-out) sees the client's checked address.
    "clinic.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.sessions.IdleTimeoutMiddleware",
    "clinic.otp.OTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "clinic.access_log.AccessLogMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lock-out answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "clinic.templating.SafeTextTemplates",
        "DIRS": [BASE_DIR / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Uploaded documents are private: MEDIA_URL is never routed, files leave only through the
# checked download view (documents.views).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media-not-served/"
S3_BUCKET = os.environ.get("S3_BUCKET", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Several servers share one S3-compatible bucket (MinIO, Ceph, AWS) when S3_BUCKET is set.
    "documents": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", ""),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
    if S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # under MEDIA_ROOT
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out user or address is refused before any password check.
    "clinic.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Staff passwords: at least 12 characters, not like the username, not on Django's list of 20,000
# common passwords, not all digits (docs/roles-and-audit.md).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Production hardening; `manage.py check --deploy` passes with DEBUG off and HTTPS on.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = 12 * 3600
# A session unused this long ends (clinic/sessions.py); SESSION_COOKIE_AGE is the absolute cap.
SESSION_IDLE_MINUTES = float(os.environ.get("SESSION_IDLE_MINUTES", 30))

# Request limits (docs/api.md): JSON bodies over API_MAX_JSON_BYTES are a 413, and so is any
# other non-upload body over DATA_UPLOAD_MAX_MEMORY_SIZE; JSON nested deeper than
# clinic.text.MAX_JSON_DEPTH (32) is a 400.
API_MAX_JSON_BYTES = int(os.environ.get("API_MAX_JSON_BYTES", 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440))

# Content-Security-Policy on every answer (django-csp): scripts only from this site or with the
# page's nonce (`<script nonce="{{ request.csp_nonce }}">`), never inline without one; styles
# may be inline (the admin's widgets set style attributes). Permissions-Policy and
# Cache-Control: clinic.middleware.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Proxies (comma-separated addresses) whose X-Forwarded-For names the client; from anyone else
# the header is ignored, and from them only a valid address in it is used (docs/install.md).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

# Login protection (django-axes, docs/roles-and-audit.md): after LOGIN_FAILURE_LIMIT failures a
# username, and separately an address, is locked out of the admin login and the token endpoint
# for LOGIN_LOCKOUT_MINUTES; the records role sees attempts in the admin, a superuser lifts one.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 30)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]  # ClientAddressMiddleware has checked it
AXES_VERBOSE = False

# API tokens (django-rest-knox): stored as SHA-512 digests, shown once, expire after
# API_TOKEN_TTL_HOURS (default 10: one clinic day); revoked by logout, by a superuser in the
# admin, and all of a user's at once when the password changes or the account is deactivated.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=float(os.environ.get("API_TOKEN_TTL_HOURS", 10))),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Two-factor (TOTP) login for superusers and the records role (clinic/otp.py); on in the
# production configuration of docs/install.md, off for the local demo.
OTP_REQUIRED = env_bool("OTP_REQUIRED", False)
OTP_TOTP_ISSUER = "clinic"
AXES_LOCKOUT_CALLABLE = "clinic.auth.lockout_response"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so anonymous requests get 401 with WWW-Authenticate; both tell auditlog
        # the actor once DRF knows it (the middleware runs before token authentication).
        "clinic.api.authentication.AuditedTokenAuthentication",
        "clinic.api.authentication.AuditedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clinic.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "clinic.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "clinic.api.filters.QuickFilterBackend",  # django-filter, skipped when no filter is asked
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "clinic.api.schema.AutoSchema",
    # Size, nesting and text of every JSON body are checked once, here (docs/api.md).
    "DEFAULT_PARSER_CLASSES": [
        "clinic.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "clinic.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "clinic.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "clinic API",
    "DESCRIPTION": "Patients, notes, history, the live queue and oncology episodes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "NoteTypeEnum": "patients.models.Note.Type",
        "HistoryTypeEnum": "patients.models.HistoryEntry.Type",
        "QueueStatusEnum": "queue_app.models.QueueEntry.Status",
        "DocumentStatusEnum": "documents.models.Status",
    },
}

AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    "patients.Patient",
    "patients.Note",
    "patients.HistoryEntry",
    "patients.PatientMerge",
    "queue_app.QueueEntry",
    "oncology.Episode",
    "oncology.Treatment",
    "oncology.Tumour",
    "documents.Document",
    "documents.DocumentBatch",
    "documents.MedicalTimeline",
    "patients.Allergy",
    "patients.NoteAmendment",
    "queue_app.Vitals",
    # Staff accounts: who created, changed, deactivated or deleted which (never the password).
    {
        "model": "auth.User",
        "include_fields": [
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "is_staff",
            "is_superuser",
        ],
    },
)
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Pages outside the admin (the TV display) send a visitor without a session to the admin login.
LOGIN_URL = "admin:login"
# Waiting-room screens may open /queue/display/?token=… without a login when this is set.
QUEUE_DISPLAY_TOKEN = os.environ.get("QUEUE_DISPLAY_TOKEN", "")
# Seconds a live-update stream stays open before the browser reconnects (it holds no thread).
QUEUE_STREAM_SECONDS = int(os.environ.get("QUEUE_STREAM_SECONDS", 600))
# Live-update streams one user may hold open at once, over all server processes (beyond: 429).
QUEUE_STREAMS_PER_USER = int(os.environ.get("QUEUE_STREAMS_PER_USER", 5))
# The board colours a row amber, then red, once the patient has waited (since arrival) or sat
# in one step this many minutes.
QUEUE_WAIT_WARN_MINUTES = int(os.environ.get("QUEUE_WAIT_WARN_MINUTES", 30))
QUEUE_WAIT_ALERT_MINUTES = int(os.environ.get("QUEUE_WAIT_ALERT_MINUTES", 60))
QUEUE_STATUS_WARN_MINUTES = int(os.environ.get("QUEUE_STATUS_WARN_MINUTES", 15))
QUEUE_STATUS_ALERT_MINUTES = int(os.environ.get("QUEUE_STATUS_ALERT_MINUTES", 30))
# Printed on token slips and patient labels.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "clinic")
# A second Undo on one entry within this many seconds is refused (a double click undoes one step).
QUEUE_UNDO_REPEAT_SECONDS = float(os.environ.get("QUEUE_UNDO_REPEAT_SECONDS", 3))

# COSD export (docs/cosd-mapping.md): the submitting trust's ODS code (else the providers named
# on the treatments) and where submission files are kept for download.
COSD_ORGANISATION_CODE = os.environ.get("COSD_ORGANISATION_CODE", "")
COSD_EXPORT_DIR = Path(os.environ.get("COSD_EXPORT_DIR", BASE_DIR / "var" / "cosd"))

# Documents (docs/documents.md): the largest upload accepted, the extractor run on each upload
# (a dotted path to `f(document) -> dict | None`; the default reads nothing and leaves the
# document for staff to transcribe) and the optional summariser of medical timelines.
DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024))
DOCUMENT_EXTRACTOR = os.environ.get("DOCUMENT_EXTRACTOR", "documents.extractors.extract_nothing")
MEDICAL_TIMELINE_SUMMARISER = os.environ.get("MEDICAL_TIMELINE_SUMMARISER", "")
# The patient timeline page (oncology.timeline) also lists these sources: (permission, callable).
PATIENT_TIMELINE_SOURCES = [
    ("documents.view_document", "documents.timeline.document_entries"),
    ("documents.view_medicaltimeline", "documents.timeline.medical_timeline_entries"),
]

# Background work (document processing) runs through django-tasks: its database backend, with
# the worker `manage.py db_worker` started by bin/serve, on both databases. On MongoDB it has
# no row locks to claim a task with, so run one worker there (the documents tasks are safe to
# run twice). TASKS_BACKEND names another backend, e.g. django_tasks_rq.RQBackend.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every login at INFO; its records are in the admin (Axes → Access logs).
    "loggers": {"axes": {"level": "WARNING"}},
}

# Phone numbers are stored in E.164; a number typed without +country is read in this region
# (ISO 3166 code) and shown in its national form.
PHONE_REGION = os.environ.get("PHONE_REGION", "IN")
