"""SHA-256 of every imported table (rows and index names), for the crash-safety test."""

import hashlib
import json
import os

import django


def checksum() -> str:
    from django.db import connection

    from oncology.models import Episode
    from patients.models import HistoryEntry, Note, Patient
    from queue_app.models import DailyTokenCounter, QueueEntry

    digest = hashlib.sha256()
    for model in (Patient, QueueEntry, Note, HistoryEntry, Episode, DailyTokenCounter):
        with connection.cursor() as cursor:  # a bulk load's deferred indexes must be back
            indexes = connection.introspection.get_constraints(cursor, model._meta.db_table)
        digest.update(json.dumps(sorted(indexes)).encode())
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*names).iterator():
            digest.update(json.dumps(row, default=str, sort_keys=True).encode())
        digest.update(model.__name__.encode())
    return digest.hexdigest()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    print(checksum())
