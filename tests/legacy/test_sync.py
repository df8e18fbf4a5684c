"""Dual-run sync: re-imports while the old system and clinic both change records."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError

from legacy import bulk, kinds
from legacy.readers import read_items
from patients.models import Note, Patient
from queue_app.models import DailyTokenCounter, QueueEntry
from tests.factories import PatientFactory
from tests.legacy.conftest import SAMPLE, by_file

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ASHA = {"patient_id": "PAT_A", "name": "Asha Rao", "age": 41, "phone": "98765 43210"}


def write(path: Path, records) -> Path:
    path.write_text(json.dumps(records))
    return path


def conflicts(tmp_path) -> list[dict]:
    text = (tmp_path / "report.conflicts.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def edit_in_clinic(pk: str, **values) -> None:
    patient = Patient.objects.get(pk=pk)
    for name, value in values.items():
        setattr(patient, name, value)
    patient.save()


@pytest.fixture
def normalised(monkeypatch):
    """The patient normaliser, counting its calls."""
    calls = []
    kind = kinds.BY_NAME["patients"]

    def counting(record, key=None):
        calls.append(record)
        return kind.normalise(record, key)

    monkeypatch.setitem(kinds.BY_NAME, "patients", dataclasses.replace(kind, normalise=counting))
    return calls


def test_an_unchanged_record_is_skipped_without_normalising_and_keeps_a_clinic_edit(
    tmp_path, migrate, normalised
):
    path = write(tmp_path / "patients.json", [ASHA])
    migrate(path)
    edit_in_clinic("PAT_A", phone="+911111111111")
    normalised.clear()
    code, report, _ = migrate(path)
    assert code == 0 and normalised == []
    assert by_file(report)["patients"]["unchanged"] == 1
    assert Patient.objects.get(pk="PAT_A").phone == "+911111111111"


def test_a_changed_record_updates_a_row_clinic_left_alone(tmp_path, migrate):
    migrate(write(tmp_path / "patients.json", [ASHA]))
    code, report, _ = migrate(write(tmp_path / "patients.json", [ASHA | {"age": 42}]))
    assert code == 0 and by_file(report)["patients"]["updated"] == 1
    assert Patient.objects.get(pk="PAT_A").age == 42
    _, again, _ = migrate(tmp_path / "patients.json")  # converged
    assert by_file(again)["patients"]["unchanged"] == 1


@pytest.mark.parametrize("prefer", ["clinic", "legacy"])
def test_a_record_changed_on_both_sides_is_a_conflict(tmp_path, migrate, prefer):
    migrate(write(tmp_path / "patients.json", [ASHA]))
    edit_in_clinic("PAT_A", phone="+911111111111")
    write(tmp_path / "patients.json", [ASHA | {"age": 42}])
    code, report, _ = migrate(tmp_path / "patients.json", prefer=prefer)
    stored = Patient.objects.get(pk="PAT_A")
    (conflict,) = conflicts(tmp_path)
    assert conflict["legacy"] == ASHA | {"age": 42}
    assert conflict["clinic"]["phone"] == "+911111111111"
    assert conflict["kept"] == prefer
    f = by_file(report)["patients"]
    assert f["warning_counts"]["conflict"] == 1
    if prefer == "clinic":
        assert (code, f["conflicts"], f["updated"]) == (1, 1, 0)
        assert (stored.age, stored.phone) == (41, "+911111111111")
        assert report["conflicts_file"] == str(tmp_path / "report.conflicts.jsonl")
    else:
        assert (code, f["conflicts"], f["updated"]) == (0, 0, 1)
        assert (stored.age, stored.phone) == (42, "98765 43210")


def test_a_conflict_is_reported_again_until_settled(tmp_path, migrate):
    migrate(write(tmp_path / "patients.json", [ASHA]))
    edit_in_clinic("PAT_A", phone="+911111111111")
    write(tmp_path / "patients.json", [ASHA | {"age": 42}])
    migrate(tmp_path / "patients.json")
    _, again, _ = migrate(tmp_path / "patients.json")
    assert by_file(again)["patients"]["conflicts"] == 1


def test_a_change_of_type_counts_as_a_change(tmp_path, migrate):
    migrate(write(tmp_path / "patients.json", [ASHA | {"smoker": 1}]))
    _, report, _ = migrate(write(tmp_path / "patients.json", [ASHA | {"smoker": True}]))
    assert by_file(report)["patients"]["updated"] == 1
    assert Patient.objects.get(pk="PAT_A").extra == {"smoker": True}


def test_a_record_that_normalises_the_same_is_unchanged_and_then_skipped(
    tmp_path, migrate, normalised
):
    migrate(write(tmp_path / "patients.json", [ASHA]))
    _, report, _ = migrate(write(tmp_path / "patients.json", [ASHA | {"age": "41"}]))
    assert by_file(report)["patients"]["unchanged"] == 1
    normalised.clear()
    migrate(tmp_path / "patients.json")
    assert normalised == []


def test_a_row_made_in_clinic_with_the_same_id_is_a_conflict_unless_equal(tmp_path, migrate):
    PatientFactory(pk="PAT_A", name="Asha Rao", age=41, phone="0000")
    write(tmp_path / "patients.json", [ASHA])
    code, report, _ = migrate(tmp_path / "patients.json")
    assert (code, by_file(report)["patients"]["conflicts"]) == (1, 1)
    assert Patient.objects.get(pk="PAT_A").phone == "0000"


def test_a_rejected_queue_entry_takes_no_token(tmp_path, migrate):
    PatientFactory(pk="PAT_A")
    entry = {"patient_id": "PAT_A", "status": "waiting", "added_at": "2024-01-28T10:00:00"}
    queue = [
        entry | {"queue_id": "Q_1", "token_number": 2},
        entry | {"queue_id": "Q_2", "token_number": 9, "patient_id": "PAT_NOBODY"},
        entry | {"queue_id": "Q_1", "token_number": 7, "status": "completed"},
    ]
    code, report, rejects = migrate(write(tmp_path / "queue.json", queue))
    assert code == 1 and [r["id"] for r in rejects] == ["Q_2"]
    assert by_file(report)["queue"]["conflicts"] == 1
    assert DailyTokenCounter.objects.get().last_token == 2
    assert QueueEntry.objects.get().token_number == 2


def test_an_unexpected_error_on_one_record_rejects_it_with_a_reason(tmp_path, migrate, monkeypatch):
    kind = kinds.BY_NAME["patients"]

    def fragile(record, key=None):
        if record["name"] == "Odd":
            raise KeyError("surprise")
        return kind.normalise(record, key)

    monkeypatch.setitem(kinds.BY_NAME, "patients", dataclasses.replace(kind, normalise=fragile))
    records = [ASHA, {"patient_id": "PAT_B", "name": "Odd"}]
    code, report, rejects = migrate(write(tmp_path / "patients.json", records))
    assert code == 1
    assert [(r["id"], r["reason"]) for r in rejects] == [
        ("PAT_B", "the record could not be imported (KeyError: 'surprise')")
    ]
    assert by_file(report)["patients"]["created"] == 1


def test_a_row_the_database_refuses_is_rejected_alone(tmp_path, migrate, monkeypatch):
    upsert = bulk.upsert

    def refusing(model, rows, **options):  # as a constraint of the database would
        if any(row["id"] == "PAT_B" for row in rows):
            raise IntegrityError("CHECK constraint failed: age")
        return upsert(model, rows, **options)

    monkeypatch.setattr(bulk, "upsert", refusing)
    records = [ASHA, {"patient_id": "PAT_B", "name": "Bad"}, {"patient_id": "PAT_C", "name": "C"}]
    code, report, rejects = migrate(write(tmp_path / "patients.json", records))
    assert code == 1
    assert [(r["id"], r["reason"]) for r in rejects] == [
        ("PAT_B", "the database refused it (CHECK constraint failed: age)")
    ]
    assert sorted(Patient.objects.values_list("pk", flat=True)) == ["PAT_A", "PAT_C"]
    assert by_file(report)["patients"]["created"] == 2


def test_the_report_counts_what_the_normaliser_read_differently(tmp_path, migrate, monkeypatch):
    kind = kinds.BY_NAME["patients"]

    def noting(record, key=None):
        return kind.normalise(record, key) | {"_notes": ["status in_progress read as x"]}

    monkeypatch.setitem(kinds.BY_NAME, "patients", dataclasses.replace(kind, normalise=noting))
    _, report, _ = migrate(write(tmp_path / "patients.json", [ASHA, ASHA | {"patient_id": "B"}]))
    assert by_file(report)["patients"]["mapped"] == {"status in_progress read as x": 2}


def test_a_note_without_an_id_is_found_by_the_id_the_normaliser_derives():
    notes = kinds.BY_NAME["notes"]
    items = [i for i in read_items(str(SAMPLE / "notes.json"), "notes") if not i.error]
    derived = 0
    for item in items:
        try:
            row = notes.normalise(item.record, item.key)
        except Exception:  # noqa: BLE001, S112 - rejected records have no ID to agree on
            continue
        assert notes.raw_id(item) == row["id"]
        derived += not item.record.get("note_id")
    assert derived > 0


def test_a_nonexistent_path_exits_2_with_a_sentence(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate_json", "/nonexistent"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "/nonexistent: no such file or directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_note_moved_between_patients_by_clinic_is_not_moved_back(tmp_path, migrate):
    PatientFactory(pk="PAT_A")
    PatientFactory(pk="PAT_B")
    note = {"note_id": "NOTE_1", "patient_id": "PAT_A", "content": "first"}
    migrate(write(tmp_path / "notes.json", [note]))
    Note.objects.filter(pk="NOTE_1").update(patient_id="PAT_B")
    migrate(write(tmp_path / "notes.json", [note | {"content": "second"}]))
    stored = Note.objects.get(pk="NOTE_1")
    assert (stored.patient_id, stored.content) == ("PAT_B", "first")


def test_copies_of_an_id_in_different_batches_merge_or_conflict_like_in_one(tmp_path, migrate):
    records = [ASHA, {"patient_id": "PAT_B", "name": "B"}, ASHA, ASHA | {"name": "Other"}]
    code, report, _ = migrate(write(tmp_path / "patients.json", records), batch_size=1)
    f = by_file(report)["patients"]
    assert (code, f["created"], f["unchanged"], f["conflicts"]) == (1, 2, 1, 1)
    assert Patient.objects.get(pk="PAT_A").name == "Asha Rao"
    assert Patient.objects.filter(pk="PAT_B").exists()
