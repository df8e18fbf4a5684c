"""Domain IDs are MongoDB's `_id`: every lookup the app makes by key is served by an index."""

import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import connection

from clinic.mongo_ids import PK_COLUMN, _move_to_id
from oncology.models import Episode, Treatment
from patients.models import HistoryEntry, Note, Patient
from queue_app.models import DailyTokenCounter, QueueEntry
from tests.factories import EpisodeFactory, PatientFactory

OUR_APPS = {"patients", "queue_app", "oncology", "documents", "legacy"}


def test_every_model_of_ours_stores_its_primary_key_as__id():
    models = [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]
    assert len(models) >= 10
    assert {m._meta.label: m._meta.pk.column for m in models} == {
        m._meta.label: PK_COLUMN for m in models
    }


def _stages(plan):
    if isinstance(plan, dict):
        if "stage" in plan:
            yield plan["stage"]
        for value in plan.values():
            yield from _stages(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _stages(value)


def _winning_stages(queryset) -> list[str]:
    explained = json.loads(queryset.explain())
    plans = []
    for stage in explained.get("stages", [explained]):
        cursor = stage.get("$cursor", stage)
        if "queryPlanner" in cursor:
            plans.append(cursor["queryPlanner"]["winningPlan"])
    return list(_stages(plans))


@pytest.mark.mongodb_only(reason="query plans are MongoDB's; SQLite's keys are its rowid tables")
def test_lookups_by_key_foreign_key_and_unique_field_use_an_index(db):
    patient = PatientFactory(uhid="IW000123", nhs_number="9434765919")
    PatientFactory.create_batch(30)
    episode = EpisodeFactory(patient=patient)
    entry = QueueEntry.objects.create(patient=patient, token_number=1, day=dt.date(2026, 1, 5))
    lookups = {
        "patient by ID": Patient.objects.filter(pk=patient.pk),
        "patient by UHID": Patient.objects.filter(uhid="IW000123"),
        "patient by NHS number": Patient.objects.filter(nhs_number="9434765919"),
        "notes of a patient": Note.objects.filter(patient_id=patient.pk),
        "history of a patient": HistoryEntry.objects.filter(patient_id=patient.pk),
        "queue entry by ID": QueueEntry.objects.filter(pk=entry.pk),
        "queue of a patient": QueueEntry.objects.filter(patient_id=patient.pk),
        "token counter by day": DailyTokenCounter.objects.filter(pk=entry.day),
        "episode by ID": Episode.objects.filter(pk=episode.pk),
        "treatments of an episode": Treatment.objects.filter(episode_id=episode.pk),
    }
    plans = {name: _winning_stages(qs) for name, qs in lookups.items()}
    scans = {name: stages for name, stages in plans.items() if "COLLSCAN" in stages}
    assert scans == {}
    assert all("IXSCAN" in stages for stages in plans.values()), plans


@pytest.mark.mongodb_only(reason="query plans are MongoDB's")
@pytest.mark.django_db(transaction=True)
def test_a_first_import_looks_up_uhids_on_an_index_while_the_others_are_deferred():
    from legacy import bulk

    with bulk.indexes_deferred(Patient):
        PatientFactory.create_batch(30)
        stages = _winning_stages(Patient.objects.filter(uhid__in=["IW000123", "IW000124"]))
    assert "COLLSCAN" not in stages and "IXSCAN" in stages, stages


class _Editor:
    def get_collection(self, name):
        return connection.database[name]


@pytest.mark.mongodb_only(reason="moves documents of the old MongoDB layout")
def test_the_migration_moves_old_layout_documents_to__id_without_loss(db):
    from bson import ObjectId

    coll = connection.database["old_layout_patients"]
    coll.drop()
    coll.create_index("id", unique=True, partialFilterExpression={"id": {"$type": "string"}})
    old = [{"_id": ObjectId(), "id": f"PAT_{n:08X}", "name": f"P{n}", "n": n} for n in range(2500)]
    coll.insert_many(old)
    # A run killed half-way: one document already written under its new `_id`, the original
    # still there.
    coll.insert_one({"_id": "PAT_00000000", "name": "P0", "n": 0})

    _move_to_id(_Editor(), "old_layout_patients", "id")
    _move_to_id(_Editor(), "old_layout_patients", "id")  # a second run changes nothing

    docs = sorted(coll.find(), key=lambda d: d["n"])
    assert [d["_id"] for d in docs] == [d["id"] for d in old]
    assert docs[7] == {"_id": "PAT_00000007", "name": "P7", "n": 7}
    assert [i["name"] for i in coll.list_indexes()] == ["_id_"]
    coll.drop()
