from django.apps import AppConfig


class MongoCompatConfig(AppConfig):
    """Installs tests.mongo_compat in every process the test harness starts on the MongoDB leg."""

    name = "tests.mongo_compat_app"
    label = "tests_mongo_compat"

    def ready(self):
        from tests import mongo_compat

        mongo_compat.install()
