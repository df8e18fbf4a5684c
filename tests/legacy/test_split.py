"""episode_split / episode_unsplit and the batch run behind `manage.py split_embedded`."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from clinic.ids import derived_id
from legacy import split
from legacy.split import (
    embedded_state,
    episode_split,
    episode_unsplit,
    episodes_split_all,
)
from oncology.models import Episode, Treatment, Tumour
from tests.factories import EpisodeFactory, PatientFactory

SAMPLE = Path("/work/shared/legacy-sample/episodes.json")
UTC = dt.UTC


def _relaxed(value):
    """Extended JSON as the importer stores it: dates as ISO strings, ObjectIds as hex."""
    if isinstance(value, dict):
        if list(value) == ["$date"] and isinstance(value["$date"], str):
            return value["$date"]
        if list(value) == ["$oid"]:
            return value["$oid"]
        return {k: _relaxed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_relaxed(v) for v in value]
    return value


def load_sample() -> list[Episode]:
    episodes = []
    for line in SAMPLE.read_text().splitlines():
        doc = _relaxed(json.loads(line))
        patient = PatientFactory(uhid=doc["patient_id"])
        episodes.append(
            EpisodeFactory(
                id=doc["_id"],
                patient=patient,
                mrn=doc["patient_id"],
                embedded_treatments=doc.get("treatments", []),
                embedded_tumours=doc.get("tumours", []),
            )
        )
    return episodes


def arrays() -> dict:
    return {
        e.pk: (e.embedded_treatments, e.embedded_tumours) for e in Episode.objects.order_by("pk")
    }


@pytest.fixture
def sample(db):
    return load_sample()


def test_it_splits_the_sample_into_8_treatments_and_6_tumours(sample):
    out = episodes_split_all(batch_size=3)
    assert Treatment.objects.count() == 8
    assert Tumour.objects.count() == 6
    assert out.items_moved == {"treatment": 8, "tumour": 6}
    assert out.error_count == 0
    assert embedded_state()["episodes_holding_items"] == 0
    assert all(t == [] and u == [] for t, u in arrays().values())


def test_it_keeps_legacy_ids_and_links_records_to_episode_and_patient(sample):
    episodes_split_all()
    kept = Treatment.objects.get(pk="TRT_E6CFDDAD")
    assert kept.episode_id == "584cc78c3b38f01595c95f10"
    assert kept.patient_id == Episode.objects.get(pk=kept.episode_id).patient_id
    assert kept.treatment_type == "radiotherapy"
    assert kept.treatment_date == dt.datetime(2024, 4, 6, 13, 7, 34, tzinfo=UTC)


def test_it_derives_a_missing_id_the_same_way_every_time(db):
    item = {"treatment_type": "surgery", "treatment_date": "2024-01-09T00:01:24Z"}
    episode = EpisodeFactory(embedded_treatments=[item])
    out = episode_split(episode_id=episode.pk)
    expected = Treatment.objects.get().pk
    # led by its episode's ID and position, so records sort with their episode
    assert expected.startswith(f"TRT_{episode.pk.upper()}0000")
    assert expected == f"TRT_{episode.pk.upper()}0000{derived_id('TRT', episode.pk, 0, item)[-8:]}"
    assert out.warnings["derived_id"] == 1
    episode_unsplit(episode_id=episode.pk)
    episode_split(episode_id=episode.pk)
    assert Treatment.objects.get().pk == expected


def test_it_keeps_every_field_typed_or_in_extra(db):
    item = {
        "treatment_id": "TRT_00000001",
        "treatment_type": "chemotherapy",
        "treatment_date": {"$date": {"$numberLong": "1734825600000"}},
        "treatment_intent": "curative",
        "regimen": "FOLFOX",
        "cycles": {"$numberInt": "6"},
        "dose_gy": "45.0",
        "asa_grade": "two",
        "trial_arm": "B",
        "notes": {"x": [1, 2]},
    }
    episode = EpisodeFactory(embedded_treatments=[item])
    out = episode_split(episode_id=episode.pk)
    row = Treatment.objects.get()
    assert row.treatment_date == dt.datetime(2024, 12, 22, tzinfo=UTC)
    assert (row.regimen, row.cycles, row.dose_gy, row.asa_grade) == ("FOLFOX", 6, 45.0, None)
    assert row.extra == {"asa_grade": "two", "trial_arm": "B", "notes": {"x": [1, 2]}}
    assert out.warnings["kept_in_extra"] == 1
    episode_unsplit(episode_id=episode.pk)
    assert Episode.objects.get().embedded_treatments == [item]


def test_it_reads_dates_without_offset_as_clinic_local_time(db):
    item = {"tumour_type": "primary", "diagnosis_date": "2024-01-15"}
    episode = EpisodeFactory(embedded_tumours=[item])
    episode_split(episode_id=episode.pk)
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert Tumour.objects.get().diagnosis_date == dt.datetime(2024, 1, 15, tzinfo=ist)


def test_it_keeps_an_unknown_type_value_with_a_warning(db):
    episode = EpisodeFactory(embedded_treatments=[{"treatment_type": "proton_beam"}])
    out = episode_split(episode_id=episode.pk)
    assert Treatment.objects.get().treatment_type == "proton_beam"
    assert out.warnings["unknown_value"] == 1


def test_an_item_that_cannot_be_converted_leaves_its_episode_untouched(db):
    good = EpisodeFactory(embedded_treatments=[{"treatment_type": "surgery"}])
    bad_items = [{"treatment_type": "surgery"}, "not an object"]
    bad = EpisodeFactory(embedded_treatments=bad_items, embedded_tumours=[{"site": "colon"}])
    out = episodes_split_all()
    assert out.error_count == 1 and out.errors[0]["episode"] == bad.pk
    assert "treatments[1]" in out.errors[0]["message"]
    assert Episode.objects.get(pk=bad.pk).embedded_treatments == bad_items
    assert not Tumour.objects.exists()
    assert Treatment.objects.get().episode_id == good.pk


def test_an_id_held_by_another_episode_gets_a_record_id_of_its_own(db):
    first = EpisodeFactory(embedded_treatments=[{"treatment_id": "TRT_SAME", "regimen": "A"}])
    episodes_split_all()
    second = EpisodeFactory(embedded_treatments=[{"treatment_id": "TRT_SAME", "regimen": "B"}])
    out = episodes_split_all()
    assert out.error_count == 0 and out.warnings["repeated_item_id"] == 1
    assert Treatment.objects.get(pk="TRT_SAME").episode_id == first.pk
    other = Treatment.objects.get(episode_id=second.pk)
    assert (other.legacy_id, other.regimen) == ("TRT_SAME", "B") and other.pk != "TRT_SAME"
    episodes_split_all(reverse=True)
    assert Episode.objects.get(pk=second.pk).embedded_treatments == [
        {"treatment_id": "TRT_SAME", "regimen": "B"}
    ]


def test_a_rerun_changes_nothing(sample):
    episodes_split_all()
    before = list(Treatment.objects.values()), list(Tumour.objects.values()), arrays()
    out = episodes_split_all()
    assert out.episodes_changed == 0
    assert (list(Treatment.objects.values()), list(Tumour.objects.values()), arrays()) == before


def test_a_dry_run_writes_nothing_but_counts(sample):
    before = arrays()
    out = episodes_split_all(dry_run=True)
    assert out.items_moved == {"treatment": 8, "tumour": 6}
    assert arrays() == before
    assert not Treatment.objects.exists() and not Tumour.objects.exists()


def test_split_reverse_split_round_trips_exactly(sample):
    original = arrays()
    episodes_split_all(batch_size=2)
    first = sorted(Treatment.objects.values_list("pk", flat=True))
    out = episodes_split_all(reverse=True, batch_size=2)
    assert out.items_moved == {"treatment": 8, "tumour": 6}
    restored = arrays()
    assert json.dumps(restored) == json.dumps(original)  # same order, keys and values
    assert not Treatment.objects.exists() and not Tumour.objects.exists()
    episodes_split_all()
    assert sorted(Treatment.objects.values_list("pk", flat=True)) == first


def test_reverse_carries_edits_made_after_the_split(db):
    item = {"treatment_type": "surgery", "treatment_date": "2024-01-09T00:01:24Z", "asa_grade": 2}
    episode = EpisodeFactory(embedded_treatments=[copy.deepcopy(item)])
    episode_split(episode_id=episode.pk)
    Treatment.objects.update(asa_grade=3, regimen="none")
    episode_unsplit(episode_id=episode.pk)
    assert Episode.objects.get().embedded_treatments == [item | {"asa_grade": 3, "regimen": "none"}]


def test_reverse_puts_back_records_created_after_the_split(db):
    episode = EpisodeFactory()
    Tumour.objects.create(
        id="TUM_NEW00001",
        episode=episode,
        patient=episode.patient,
        tumour_type="primary",
        site="caecum",
        diagnosis_date=dt.datetime(2024, 3, 1, 12, tzinfo=UTC),
    )
    episode_unsplit(episode_id=episode.pk)
    assert Episode.objects.get().embedded_tumours == [
        {
            "tumour_id": "TUM_NEW00001",
            "tumour_type": "primary",
            "site": "caecum",
            "diagnosis_date": "2024-03-01T12:00:00Z",
        }
    ]


@pytest.mark.mongodb_only(reason="a raw legacy document in the episodes collection is MongoDB's")
def test_it_splits_a_raw_legacy_document_and_reverses_it_exactly(db):
    from bson import ObjectId
    from django.db import connection

    patient = PatientFactory(uhid="100000000")
    oid = ObjectId("584cc78c3b38f01595c95f10")
    when = dt.datetime(2024, 4, 6, 13, 7, 34)  # BSON dates come back naive UTC
    treatments = [{"treatment_type": "surgery", "treatment_date": when, "asa_grade": 2}]
    tumours = [{"tumour_id": "TUM_LEGACY01", "tumour_type": "primary", "diagnosis_date": when}]
    coll = connection.database[Episode._meta.db_table]
    coll.insert_one(
        {
            "_id": oid,
            "patient_id": "100000000",
            "cancer_type": "bowel",
            "treatments": treatments,
            "tumours": tumours,
        }
    )

    out = episodes_split_all()
    assert out.adopted == 1 and out.error_count == 0
    episode = Episode.objects.get(pk=str(oid))
    assert (episode.patient_id, episode.mrn) == (patient.pk, "100000000")
    treatment = Treatment.objects.get()
    assert treatment.episode_id == str(oid) and treatment.patient_id == patient.pk
    assert treatment.treatment_date == when.replace(tzinfo=UTC)
    assert Tumour.objects.get().pk == "TUM_LEGACY01"

    episodes_split_all(reverse=True)
    assert coll.count_documents({"_id": oid}) == 0  # adopted: its ID is now the hex string
    doc = coll.find_one({"_id": str(oid)})
    assert (doc["treatments"], doc["tumours"]) == (treatments, tumours)


def test_an_episode_changed_between_read_and_write_is_converted_again(db, monkeypatch):
    episode = EpisodeFactory(
        embedded_treatments=[{"treatment_id": "TRT_OLD", "treatment_type": "surgery"}],
        embedded_tumours=[],
    )
    real_plan, calls = split._split_plan, []

    def plan_then_someone_edits(episodes):
        plan = real_plan(episodes)
        if not calls:  # another process re-imports the episode with a different item
            Episode.objects.filter(pk=episode.pk).update(
                embedded_treatments=[{"treatment_id": "TRT_NEW", "treatment_type": "radiotherapy"}]
            )
        calls.append(plan)
        return plan

    monkeypatch.setattr(split, "_split_plan", plan_then_someone_edits)
    out = episodes_split_all()
    assert len(calls) == 2  # converted once more, under the lock
    assert list(Treatment.objects.values_list("id", "treatment_type")) == [
        ("TRT_NEW", "radiotherapy")
    ]
    assert Episode.objects.get(pk=episode.pk).embedded_treatments == []
    assert out.items_moved["treatment"] == 1


def test_a_record_edited_while_a_reverse_runs_goes_back_as_edited(db, monkeypatch):
    item = {"treatment_id": "TRT_1", "treatment_type": "surgery"}
    episode = EpisodeFactory(embedded_treatments=[item], embedded_tumours=[])
    episodes_split_all()
    real_plan, calls = split._unsplit_plan, []

    def plan_then_someone_edits(episodes):
        plan = real_plan(episodes)
        if not calls:  # a doctor corrects the record in the admin meanwhile
            Treatment.objects.filter(pk="TRT_1").update(treatment_type="radiotherapy")
        calls.append(plan)
        return plan

    monkeypatch.setattr(split, "_unsplit_plan", plan_then_someone_edits)
    episodes_split_all(reverse=True)
    assert len(calls) == 2  # rebuilt once more, under the lock
    assert Episode.objects.get(pk=episode.pk).embedded_treatments == [
        {"treatment_id": "TRT_1", "treatment_type": "radiotherapy"}
    ]
    assert not Treatment.objects.exists()


def test_an_unknown_episode_is_an_error(db):
    with pytest.raises(Episode.DoesNotExist):
        episode_split(episode_id="0" * 24)
