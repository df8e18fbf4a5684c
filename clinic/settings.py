"""One settings file for every environment; everything that differs comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("REQUIRE_SECRET_KEY", False):
        raise RuntimeError("SECRET_KEY must be set in production")
    SECRET_KEY = "insecure-development-key-change-me-" + "x" * 20
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Kolkata")
USE_TZ = True
LANGUAGE_CODE = "en"
USE_I18N = True

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
IS_MONGODB = DATABASE_URL.startswith(("mongodb://", "mongodb+srv://"))

# The contrib and third-party apps with models need MongoDB's ObjectId keys and their own
# migrations there; the project's apps use string keys and share one set of migrations.
MONGO_MIGRATED_APPS = ["admin", "auth", "contenttypes", "auditlog"]
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
    ]
    MIGRATION_MODULES = {app: f"clinic.mongo_migrations.{app}" for app in MONGO_MIGRATED_APPS}
    DATABASE_ROUTERS = ["django_mongodb_backend.routers.MongoRouter"]
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
    ]
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    *CONTRIB_APPS,
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "patients",
    "queue_app",
    "oncology",
    # Last, so its post_migrate handler (role groups) runs after every app's permissions exist.
    "clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
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
    },
}

AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    "patients.Patient",
    "patients.Note",
    "patients.HistoryEntry",
    "queue_app.QueueEntry",
    "oncology.Episode",
    "oncology.Treatment",
    "oncology.Tumour",
)
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Waiting-room screens may open /queue/display/?token=… without a login when this is set.
QUEUE_DISPLAY_TOKEN = os.environ.get("QUEUE_DISPLAY_TOKEN", "")
# Seconds a live-update stream stays open before the browser reconnects (it holds no thread).
QUEUE_STREAM_SECONDS = int(os.environ.get("QUEUE_STREAM_SECONDS", 600))
# Live-update streams one user may hold open at once, over all server processes (beyond: 429).
QUEUE_STREAMS_PER_USER = int(os.environ.get("QUEUE_STREAMS_PER_USER", 5))

# COSD export (docs/cosd-mapping.md): the submitting trust's ODS code (else the providers named
# on the treatments) and where submission files are kept for download.
COSD_ORGANISATION_CODE = os.environ.get("COSD_ORGANISATION_CODE", "")
COSD_EXPORT_DIR = Path(os.environ.get("COSD_EXPORT_DIR", BASE_DIR / "var" / "cosd"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
