from django.apps import AppConfig
from django.conf import settings


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        if settings.IS_MONGODB:
            from clinic import mongo_compat

            mongo_compat.install()
