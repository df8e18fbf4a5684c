import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from legacy import bulk
from oncology.models import Episode
from patients.models import HistoryEntry, Note, Patient, PatientSearchTerm
from queue_app.models import DailyTokenCounter, QueueDayVersion, QueueEntry
from tests.factories import PatientFactory
from tests.legacy.conftest import by_file

pytestmark = pytest.mark.django_db


def conflicts_of(tmp_path) -> list[dict]:
    lines = (tmp_path / "report.conflicts.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def counts():
    return [m.objects.count() for m in (Patient, QueueEntry, Note, HistoryEntry, Episode)]


def test_the_sample_imports_with_exactly_the_manifest_counts(sample, manifest, migrate):
    code, report, rejects = migrate(sample)
    assert code == 1  # the sample holds deliberately bad records
    assert counts() == [
        manifest["patients_valid"],
        manifest["queue_valid"],
        manifest["notes_valid"],
        manifest["history_valid"],
        manifest["episodes"],
    ]
    files = by_file(report)
    rejected_patients = {r["id"] for r in rejects if r["file"] == "patients.json"}
    assert rejected_patients == set(manifest["patients_rejected"])
    assert {r["id"] for r in rejects if r["file"] == "queue.json"} == set(
        manifest["queue_rejected"]
    )
    assert files["notes"]["rejected"] == manifest["notes_rejected"]
    assert files["history"]["rejected"] == manifest["history_rejected"]
    merged = [w["id"] for w in files["queue"]["warnings"] if w["kind"].startswith("duplicate")]
    assert merged == manifest["queue_duplicate_ids"]
    assert files["queue"]["warning_counts"]["token_collision"] == manifest["token_collisions"]
    embedded = Episode.objects.values_list("embedded_treatments", "embedded_tumours")
    assert sum(len(t) for t, _ in embedded) == manifest["treatments"]
    assert sum(len(t) for _, t in embedded) == manifest["tumours"]
    for patient_id, name, value in manifest["extra_fields"]:
        assert Patient.objects.get(pk=patient_id).extra[name] == value


def test_every_record_gets_exactly_one_outcome(sample, migrate):
    _, report, rejects = migrate(sample)
    for kind, f in by_file(report).items():
        outcomes = f["created"] + f["updated"] + f["unchanged"] + f["rejected"] + f["conflicts"]
        assert f["records"] == outcomes
        assert f["rejected"] == sum(1 for r in rejects if r["file"] == f"{kind}.json")
    assert report["records"] == 34 + 64 + 42 + 46 + 7


def test_rejects_carry_file_position_id_reason_and_the_verbatim_record(sample, migrate):
    _, _, rejects = migrate(sample)
    no_age = next(r for r in rejects if r["id"] == "PAT_BAD00002")
    assert no_age == {
        "file": "patients.json",
        "position": "key PAT_BAD00002",
        "id": "PAT_BAD00002",
        "reason": "age is not a whole number: 'forty'",
        "record": json.loads((sample / "patients.json").read_text())["PAT_BAD00002"],
    }


def test_a_rerun_reports_everything_unchanged_and_changes_nothing(sample, migrate):
    migrate(sample)
    before = list(Patient.objects.values()), list(QueueEntry.objects.values())
    code, report, _ = migrate(sample)
    assert code == 1
    assert report["totals"]["created"] == report["totals"]["updated"] == 0
    assert (list(Patient.objects.values()), list(QueueEntry.objects.values())) == before


def test_a_dry_run_writes_nothing_and_reports_what_would_happen(sample, migrate, manifest):
    code, report, _ = migrate(sample, dry_run=True)
    assert code == 1
    assert counts() == [0, 0, 0, 0, 0]
    assert not DailyTokenCounter.objects.exists()
    files = by_file(report)
    assert files["patients"]["created"] == manifest["patients_valid"]
    assert files["queue"]["created"] == manifest["queue_valid"]
    assert files["notes"]["created"] == manifest["notes_valid"]
    assert files["episodes"]["created"] == manifest["episodes"]


def test_an_incremental_run_updates_only_what_changed(sample, migrate):
    migrate(sample)
    patients = json.loads((sample / "patients.json").read_text())
    patients["PAT_22FE67A9"]["phone"] = "+911111111111"
    patients["PAT_NEW00001"] = {"name": "New Person", "gender": "f"}
    (sample / "patients.json").write_text(json.dumps(patients))
    _, report, _ = migrate(sample, only="patients")
    patients_report = by_file(report)["patients"]
    assert (patients_report["created"], patients_report["updated"]) == (1, 1)
    assert Patient.objects.get(pk="PAT_22FE67A9").phone == "+911111111111"
    assert Patient.objects.get(pk="PAT_NEW00001").gender == "F"


def test_only_imports_the_named_kinds(sample, migrate):
    migrate(sample, only="patients,queue")
    assert counts()[2:] == [0, 0, 0]
    assert Patient.objects.exists() and QueueEntry.objects.exists()


def test_the_token_counter_covers_every_imported_token(sample, migrate):
    migrate(sample)
    for day, top in QueueEntry.objects.values_list("day", "token_number"):
        assert DailyTokenCounter.objects.get(day=day).last_token >= top


def test_an_import_moves_the_version_of_every_queue_day_it_wrote(sample, migrate):
    migrate(sample)
    days = set(QueueEntry.objects.values_list("day", flat=True))
    assert set(QueueDayVersion.objects.filter(version__gt=0).values_list("day", flat=True)) == days


def test_a_rerun_that_changes_nothing_leaves_the_queue_day_versions_alone(sample, migrate):
    migrate(sample)
    before = dict(QueueDayVersion.objects.values_list("day", "version"))
    migrate(sample)
    assert dict(QueueDayVersion.objects.values_list("day", "version")) == before


@pytest.mark.django_db(transaction=True)
def test_a_first_import_builds_secondary_indexes_at_the_end(sample, migrate, monkeypatch):
    deferred, real = [], bulk._drop_indexes

    def spy(model):
        deferred.append(model)
        return real(model)

    monkeypatch.setattr(bulk, "_drop_indexes", spy)
    migrate(sample)
    assert deferred == [Patient, PatientSearchTerm, QueueEntry, Note, HistoryEntry, Episode]
    for model in deferred:
        with connection.cursor() as cursor:
            present = connection.introspection.get_constraints(cursor, model._meta.db_table)
        assert {index.name for index in model._meta.indexes} <= set(present)
    deferred.clear()
    _, report, _ = migrate(sample)  # the tables hold rows now: indexes stay
    assert deferred == []
    assert report["totals"]["created"] == 0


def test_a_token_taken_on_that_day_is_renumbered_and_kept_on_rerun(tmp_path, migrate):
    patient = PatientFactory(pk="PAT_A")
    entry = {"patient_id": patient.pk, "status": "waiting", "added_at": "2024-01-28T10:00:00"}
    queue = [
        entry | {"queue_id": "Q_1", "token_number": 3},
        entry | {"queue_id": "Q_2", "token_number": 3},
        entry | {"queue_id": "Q_3", "token_number": 4},
    ]
    (tmp_path / "queue.json").write_text(json.dumps(queue))
    code, report, _ = migrate(tmp_path / "queue.json")
    assert code == 0
    tokens = dict(QueueEntry.objects.values_list("id", "token_number"))
    assert tokens == {"Q_1": 3, "Q_2": 5, "Q_3": 4}
    (warning,) = by_file(report)["queue"]["warnings"]
    assert (warning["id"], warning["token"], warning["new_token"]) == ("Q_2", 3, 5)
    _, again, _ = migrate(tmp_path / "queue.json")
    assert dict(QueueEntry.objects.values_list("id", "token_number")) == tokens
    assert by_file(again)["queue"]["unchanged"] == 3


def test_a_queue_id_written_twice_differently_keeps_the_first_as_a_conflict(tmp_path, migrate):
    patient = PatientFactory(pk="PAT_A")
    entry = {
        "queue_id": "Q_1",
        "patient_id": patient.pk,
        "status": "waiting",
        "added_at": "2024-01-28T10:00:00",
        "token_number": 1,
    }
    (tmp_path / "queue.json").write_text(json.dumps([entry, entry | {"status": "completed"}]))
    code, report, rejects = migrate(tmp_path / "queue.json")
    assert code == 1
    assert QueueEntry.objects.get().status == "waiting"
    assert rejects == []
    f = by_file(report)["queue"]
    assert (f["created"], f["conflicts"], f["warning_counts"]) == (1, 1, {"conflict": 1})
    (conflict,) = conflicts_of(tmp_path)
    assert (conflict["position"], conflict["legacy"]["status"]) == ("item 1", "completed")
    # A re-run reports the same, and takes no second token for the copy.
    code, again, _ = migrate(tmp_path / "queue.json")
    assert by_file(again)["queue"]["conflicts"] == 1
    assert DailyTokenCounter.objects.get().last_token == 1


def test_episodes_match_the_mrn_to_a_uhid_then_to_a_patient_id(tmp_path, migrate):
    by_uhid = PatientFactory(uhid="555")
    by_id = PatientFactory(pk="PAT_X", uhid=None)
    lines = [
        {"_id": {"$oid": "a" * 24}, "patient_id": "555"},
        {"_id": {"$oid": "b" * 24}, "patient_id": {"$numberInt": "0"}},
        {
            "_id": {"$oid": "c" * 24},
            "patient_id": "PAT_X",
            "referral_date": {"$date": {"$numberLong": "1734825600000"}},
        },
    ]
    (tmp_path / "episodes.json").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    code, _, rejects = migrate(tmp_path / "episodes.json")
    assert code == 1 and rejects[0]["position"] == "line 2"
    assert rejects[0]["record"] == lines[1]  # verbatim, Extended JSON as written
    assert Episode.objects.get(pk="a" * 24).patient == by_uhid
    episode = Episode.objects.get(pk="c" * 24)
    assert (episode.patient, episode.mrn) == (by_id, "PAT_X")
    assert episode.referral_date.isoformat() == "2024-12-22T00:00:00+00:00"


def test_a_cut_off_file_exits_2_with_the_byte_offset_and_keeps_earlier_files(sample, migrate):
    text = (sample / "notes.json").read_text()
    (sample / "notes.json").write_text(text[:5000])
    code, report, _ = migrate(sample)
    assert code == 2
    files = by_file(report)
    assert files["notes"]["error"]["offset"] == 5000
    assert "history" not in files
    assert Patient.objects.count() == 31


def test_unknown_file_names_and_bad_options_are_command_errors_with_exit_2(tmp_path):
    (tmp_path / "people.json").write_text("[]")
    for paths, options, message in [
        (["people.json"], {}, "cannot tell what it holds"),
        (["."], {"only": "people"}, "--only"),
        (["."], {}, "No legacy files"),
        (["."], {"batch_size": 0}, "--batch-size"),
        (["nowhere"], {}, "nowhere: no such file or directory"),
    ]:
        with pytest.raises(CommandError, match=message) as error:
            call_command("migrate_json", *(str(tmp_path / p) for p in paths), **options)
        assert error.value.returncode == 2


def test_the_import_never_lowers_a_counter_live_desks_have_moved_on(tmp_path, migrate):
    patient = PatientFactory(pk="PAT_A")
    day = dt.date(2024, 1, 28)
    DailyTokenCounter.objects.create(day=day, last_token=10)
    QueueEntry.objects.create(id="Q_LIVE", patient=patient, day=day, token_number=2,
                              added_at=dt.datetime(2024, 1, 28, 4, tzinfo=dt.UTC))  # fmt: skip
    entry = {"patient_id": patient.pk, "status": "waiting", "added_at": "2024-01-28T10:00:00"}
    queue = [entry | {"queue_id": "Q_1", "token_number": 2}, entry | {"queue_id": "Q_2",
             "token_number": 3}]  # fmt: skip
    (tmp_path / "queue.json").write_text(json.dumps(queue))
    migrate(tmp_path / "queue.json")
    assert dict(QueueEntry.objects.values_list("id", "token_number")) == {
        "Q_LIVE": 2, "Q_1": 11, "Q_2": 3,
    }  # fmt: skip
    assert DailyTokenCounter.objects.get(day=day).last_token == 11


def test_a_patient_id_twice_with_different_data_is_a_conflict_never_an_overwrite(tmp_path, migrate):
    first = {"patient_id": "PAT_P", "name": "Asha Rao", "uhid": "222"}
    patients = [first, first | {"name": "Someone Else"}, first]
    (tmp_path / "patients.json").write_text(json.dumps(patients))
    code, report, rejects = migrate(tmp_path / "patients.json")
    assert code == 1 and rejects == []
    assert Patient.objects.get(pk="PAT_P").name == "Asha Rao"
    f = by_file(report)["patients"]
    assert (f["created"], f["conflicts"], f["unchanged"], f["records"]) == (1, 1, 1, 3)
    assert f["warning_counts"] == {"conflict": 1, "duplicate_merged": 1}
    (conflict,) = conflicts_of(tmp_path)
    assert (conflict["id"], conflict["legacy"]["name"]) == ("PAT_P", "Someone Else")


def test_a_note_id_reused_under_another_patient_in_one_file_is_a_conflict(tmp_path, migrate):
    PatientFactory(pk="PAT_A")
    PatientFactory(pk="PAT_B")
    first = {"note_id": "NOTE_1", "patient_id": "PAT_A", "content": "first"}
    notes = [first, first | {"patient_id": "PAT_B"}]
    (tmp_path / "notes.json").write_text(json.dumps(notes))
    code, report, rejects = migrate(tmp_path / "notes.json")
    assert code == 1 and rejects == []
    assert Note.objects.get(pk="NOTE_1").patient_id == "PAT_A"
    f = by_file(report)["notes"]
    assert (f["created"], f["conflicts"], f["records"]) == (1, 1, 2)


def test_a_note_id_reused_under_another_patient_on_a_rerun_is_never_moved(tmp_path, migrate):
    PatientFactory(pk="PAT_A")
    PatientFactory(pk="PAT_B")
    note = {"note_id": "NOTE_1", "patient_id": "PAT_A", "content": "first"}
    (tmp_path / "notes.json").write_text(json.dumps([note]))
    migrate(tmp_path / "notes.json")
    (tmp_path / "notes.json").write_text(json.dumps([note | {"patient_id": "PAT_B"}]))
    for prefer in ("clinic", "legacy"):
        code, report, _ = migrate(tmp_path / "notes.json", prefer=prefer)
        assert code == 1 and by_file(report)["notes"]["conflicts"] == 1
        assert Note.objects.get(pk="NOTE_1").patient_id == "PAT_A"
    (conflict,) = conflicts_of(tmp_path)
    assert "never moved" in conflict["reason"]
    assert conflict["clinic"]["patient_id"] == "PAT_A"


def test_a_changed_note_that_now_names_an_unknown_patient_is_left_as_stored(tmp_path, migrate):
    PatientFactory(pk="PAT_A")
    note = {"note_id": "NOTE_1", "patient_id": "PAT_A", "content": "first"}
    (tmp_path / "notes.json").write_text(json.dumps([note]))
    migrate(tmp_path / "notes.json")
    (tmp_path / "notes.json").write_text(json.dumps([note | {"patient_id": "PAT_GONE"}]))
    code, report, _ = migrate(tmp_path / "notes.json")
    assert code == 1
    (conflict,) = conflicts_of(tmp_path)
    assert conflict["reason"] == (
        "the note belongs to PAT_A in clinic; the file names PAT_GONE: it is never moved"
    )
    assert Note.objects.get(pk="NOTE_1").patient_id == "PAT_A"
    assert by_file(report)["notes"]["conflicts"] == 1


def _found(term: str) -> set[str]:
    from patients.selectors import patient_search

    return set(patient_search(Patient.objects.all(), term).values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)  # a first import outside a transaction defers indexes
def test_imported_patients_are_found_by_any_word_part_of_their_uhid_and_their_phone(
    tmp_path, migrate
):
    patients = {
        "PAT_A": {"name": "Asha Kumar", "uhid": "MH/2024/0012", "phone": "098765 43210"},
        "PAT_B": {"name": "Ravi Rao", "uhid": "IW000123", "phone": "+447946095812"},
    }
    (tmp_path / "patients.json").write_text(json.dumps(patients))
    code, _, _ = migrate(tmp_path / "patients.json")
    assert code == 0
    assert _found("kumar") == {"PAT_A"}
    assert _found("2024/0012") == {"PAT_A"}
    assert _found("+91 98765 43210") == {"PAT_A"}
    assert _found("9876543210") == {"PAT_A"}
    assert _found("7946095812") == {"PAT_B"}  # a foreign number by its national digits
    assert _found("000123") == {"PAT_B"}
    terms = PatientSearchTerm.objects.filter(patient_id="PAT_A").values_list("term", flat=True)
    assert "+919876543210" in set(terms)


def test_a_reimport_that_renames_a_patient_moves_the_search_terms(tmp_path, migrate):
    path = tmp_path / "patients.json"
    path.write_text(json.dumps({"PAT_A": {"name": "Asha Kumar", "phone": "+919876543210"}}))
    migrate(path)
    path.write_text(json.dumps({"PAT_A": {"name": "Asha Bose", "phone": "+919876543210"}}))
    code, report, _ = migrate(path)
    assert (code, report["totals"]["updated"]) == (0, 1)
    assert _found("kumar") == set()
    assert _found("bose") == _found("9876543210") == {"PAT_A"}
