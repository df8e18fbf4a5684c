"""Run as a script against DATABASE_URL: `seed N` creates staff and N patients and prints their
tokens and IDs as JSON; `dump` prints the queue as JSON. Used by the gunicorn tests."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
sys.path.insert(0, os.getcwd())
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402

from clinic.auth import token_create  # noqa: E402
from clinic.permissions import sync_roles  # noqa: E402
from patients.models import Patient  # noqa: E402
from queue_app.models import DailyTokenCounter, QueueEntry, QueueEvent  # noqa: E402


def seed(count: int) -> dict:
    sync_roles()
    tokens = {}
    for role in ("nurse", "doctor"):
        user = get_user_model().objects.create_user(
            username=f"{role}_load", password="queue-load-password", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        tokens[role] = token_create(user=user)[1]
    patients = [Patient(name=f"Load Patient {n}") for n in range(count)]
    Patient.objects.bulk_create(patients, batch_size=500)
    return {"tokens": tokens, "patients": [p.pk for p in patients]}


def dump() -> dict:
    entries = list(QueueEntry.objects.values("id", "day", "token_number", "status", "patient_id"))
    return {
        "entries": [{**e, "day": e["day"].isoformat()} for e in entries],
        "events": list(QueueEvent.objects.values_list("entry_id", "action")),
        # Each entry's status as its event history tells it (the last event's target).
        "history": {
            entry_id: to_status
            for entry_id, to_status in QueueEvent.objects.order_by("at", "id").values_list(
                "entry_id", "to_status"
            )
        },
        "counters": {c.day.isoformat(): c.last_token for c in DailyTokenCounter.objects.all()},
    }


if __name__ == "__main__":
    result = seed(int(sys.argv[2])) if sys.argv[1] == "seed" else dump()
    print(json.dumps(result))
