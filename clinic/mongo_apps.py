"""App configs that give the contrib apps MongoDB ObjectId keys (selected by settings)."""

from auditlog.apps import AuditlogConfig
from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPDeviceConfig

OBJECT_ID = "django_mongodb_backend.fields.ObjectIdAutoField"


class MongoAdminConfig(AdminConfig):
    default_auto_field = OBJECT_ID


class MongoAuthConfig(AuthConfig):
    default_auto_field = OBJECT_ID


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = OBJECT_ID


class MongoAuditlogConfig(AuditlogConfig):
    default_auto_field = OBJECT_ID


class MongoAxesConfig(AxesConfig):
    default_auto_field = OBJECT_ID


class MongoKnoxConfig(AppConfig):
    name = "knox"
    default_auto_field = OBJECT_ID


class MongoTOTPDeviceConfig(TOTPDeviceConfig):
    default_auto_field = OBJECT_ID
