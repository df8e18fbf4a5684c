from django.apps import AppConfig


class OncologyConfig(AppConfig):
    name = "oncology"
