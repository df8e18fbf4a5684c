import datetime as dt

import pytest
from django.db import connection

from legacy import bulk
from oncology.models import Episode
from patients.models import Patient
from queue_app.models import QueueEntry
from tests.factories import PatientFactory

UTC = dt.UTC
WHEN = dt.datetime(2024, 11, 8, 9, 12, 44, 123000, tzinfo=UTC)


def _patient(pk, **over):
    row = {
        "id": pk,
        "uhid": None,
        "name": "Asha Rao",
        "age": 41,
        "gender": "F",
        "phone": "",
        "created_at": WHEN,
        "updated_at": WHEN,
        "extra": {"blood_group": "O-"},
    }
    return row | over


@pytest.mark.django_db
def test_it_creates_then_reports_unchanged_then_updates():
    first = bulk.upsert(Patient, [_patient("PAT_1"), _patient("PAT_2")])
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = bulk.upsert(Patient, [_patient("PAT_1"), _patient("PAT_2")])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = bulk.upsert(Patient, [_patient("PAT_1", name="Asha R. Rao"), _patient("PAT_2")])
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert changed.updated_pks == ["PAT_1"]
    stored = Patient.objects.get(pk="PAT_1")
    assert stored.name == "Asha R. Rao"
    assert stored.extra == {"blood_group": "O-"}
    assert stored.created_at == WHEN


@pytest.mark.django_db
def test_it_writes_nothing_on_a_dry_run():
    counts = bulk.upsert(Patient, [_patient("PAT_1")], dry_run=True)
    assert counts.created == 1
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_it_leaves_fields_the_row_omits_alone_and_defaults_them_on_insert():
    patient = PatientFactory()
    row = {
        "id": "Q_1",
        "patient_id": patient.pk,
        "day": dt.date(2024, 11, 8),
        "token_number": 3,
        "added_at": WHEN,
    }
    bulk.upsert(QueueEntry, [row])
    entry = QueueEntry.objects.get(pk="Q_1")
    assert (entry.status, entry.priority, entry.room, entry.extra) == ("waiting", "normal", "", {})
    QueueEntry.objects.filter(pk="Q_1").update(room="R2")
    counts = bulk.upsert(QueueEntry, [row | {"token_number": 4}])
    entry.refresh_from_db()
    assert counts.updated == 1
    assert (entry.token_number, entry.room, entry.day) == (4, "R2", dt.date(2024, 11, 8))


@pytest.mark.django_db
def test_update_fields_touches_only_named_fields_of_existing_rows():
    patient = PatientFactory()
    bulk.upsert(
        Episode,
        [
            {
                "id": "a" * 24,
                "patient_id": patient.pk,
                "embedded_treatments": [{"treatment_type": "surgery"}],
            }
        ],
    )
    counts = bulk.update_fields(
        Episode,
        [{"id": "a" * 24, "embedded_treatments": []}, {"id": "b" * 24, "embedded_treatments": []}],
    )
    assert (counts.updated, counts.missing) == (1, 1)
    episode = Episode.objects.get()
    assert episode.embedded_treatments == []
    assert bulk.update_fields(Episode, [{"id": "a" * 24, "embedded_treatments": []}]).unchanged == 1


@pytest.mark.django_db
def test_stored_values_reads_python_values():
    bulk.upsert(Patient, [_patient("PAT_1")])
    values = bulk.stored_values(Patient, ["PAT_1", "PAT_X"], ["name", "created_at", "extra"])
    assert values == {
        "PAT_1": {"name": "Asha Rao", "created_at": WHEN, "extra": {"blood_group": "O-"}}
    }


@pytest.mark.django_db
def test_a_repeated_pk_in_one_batch_is_written_once_with_the_later_values():
    counts = bulk.upsert(Patient, [_patient("PAT_1"), _patient("PAT_1", name="Later")])
    assert (counts.created, counts.updated) == (1, 1)
    assert Patient.objects.get().name == "Later"


@pytest.mark.django_db
def test_pks_by_finds_rows_by_one_or_two_other_fields():
    patient = PatientFactory(uhid="777")
    entry = {"patient_id": patient.pk, "added_at": WHEN, "token_number": 3}
    bulk.upsert(QueueEntry, [entry | {"id": "Q_1", "day": dt.date(2024, 11, 8)}])
    assert bulk.pks_by(Patient, "uhid", ["777", "888"]) == {"777": patient.pk}
    pairs = [(dt.date(2024, 11, 8), 3), (dt.date(2024, 11, 9), 3)]
    found = bulk.pks_by_pairs(QueueEntry, ("day", "token_number"), pairs)
    assert found == {(dt.date(2024, 11, 8), 3): "Q_1"}


@pytest.mark.django_db
def test_before_write_sees_only_changed_rows_and_can_leave_some_out():
    bulk.upsert(Patient, [_patient("PAT_1")])
    seen = []

    def veto(rows):
        seen.extend(row["id"] for row in rows)
        return [row for row in rows if row["id"] == "PAT_3"]

    rows = [_patient("PAT_1"), _patient("PAT_2"), _patient("PAT_3")]
    counts = bulk.upsert(Patient, rows, before_write=veto)
    assert seen == ["PAT_2", "PAT_3"]
    assert (counts.created, counts.unchanged, counts.skipped) == (1, 1, 1)
    assert set(Patient.objects.values_list("pk", flat=True)) == {"PAT_1", "PAT_2"}


@pytest.mark.django_db
def test_leaving_out_the_first_copy_of_a_repeated_pk_inserts_the_later_one():
    first, later = _patient("PAT_1", name="First"), _patient("PAT_1", name="Later")
    counts = bulk.upsert(Patient, [first, later], before_write=lambda rows: [first])
    assert (counts.created, counts.updated, counts.skipped) == (1, 0, 1)
    assert Patient.objects.get().name == "Later"


def _index_names(model) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, model._meta.db_table))


@pytest.mark.django_db(transaction=True)
def test_indexes_deferred_drops_the_secondary_indexes_and_builds_them_again():
    declared = {index.name for index in Patient._meta.indexes}
    # The lookups beside the unique UHID and NHS number stay: the import looks rows up by them.
    on_unique = {"patient_uhid_lookup", "patient_nhs_number_lookup"}
    assert declared <= _index_names(Patient)
    with bulk.indexes_deferred(Patient):
        assert declared & _index_names(Patient) == on_unique
        bulk.upsert(Patient, [_patient("PAT_1")])
    assert declared <= _index_names(Patient)
    assert Patient.objects.filter(name="Asha Rao", phone="").count() == 1
    with bulk.indexes_deferred(Patient):  # the table holds a row now
        assert declared <= _index_names(Patient)


@pytest.mark.django_db(transaction=True)
def test_restore_indexes_builds_what_a_killed_bulk_load_left_dropped():
    (phone,) = [i for i in Patient._meta.indexes if i.fields == ["phone"]]
    with connection.schema_editor() as editor:
        editor.remove_index(Patient, phone)
    assert phone.name not in _index_names(Patient)
    assert bulk.restore_indexes(Patient) == [phone.name]
    assert phone.name in _index_names(Patient)
    assert bulk.restore_indexes(Patient) == []


@pytest.mark.django_db
def test_json_spaced_as_the_orm_writes_it_counts_as_unchanged():
    PatientFactory(pk="PAT_1", extra={"blood_group": "O-", "tags": [1, 2]})
    stored = bulk.stored_values(Patient, ["PAT_1"], ["extra"])["PAT_1"]
    row = {"id": "PAT_1", "extra": stored["extra"]}
    assert bulk.update_fields(Patient, [row]).unchanged == 1
    changed = bulk.update_fields(Patient, [{"id": "PAT_1", "extra": {"blood_group": "A+"}}])
    assert changed.updated == 1
    assert Patient.objects.get(pk="PAT_1").extra == {"blood_group": "A+"}


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(2024, 11, 8, 9, 12, 44, 120, tzinfo=UTC),
        dt.datetime(999, 6, 1, 0, 0, 0, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_utc_datetimes_become_the_text_djangos_sqlite_backend_stores(moment):
    # Django's SQLite backend stores str() of the naive UTC value; a re-import compares
    # against that text, so any other spelling would count every record as changed.
    assert bulk._utc_text(moment) == str(moment.replace(tzinfo=None))


@pytest.mark.django_db(transaction=True)
def test_a_new_row_whose_key_was_taken_meanwhile_fails_and_overwrites_nothing():
    """`new=True` rows are plain inserts (no upsert): a key another writer took in between is
    Django's IntegrityError on both databases, and that writer's row stays as it was."""
    from django.db import IntegrityError

    bulk.upsert(Patient, [_patient("PAT_1")])
    with pytest.raises(IntegrityError):
        bulk.upsert(Patient, [_patient("PAT_1", name="Someone Else"), _patient("PAT_2")], new=True)
    assert Patient.objects.get(pk="PAT_1").name == "Asha Rao"
    assert not Patient.objects.filter(pk="PAT_2").exists()  # the batch's transaction rolled back
