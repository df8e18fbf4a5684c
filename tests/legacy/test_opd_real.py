"""The real OPD system's data shapes import with nothing rejected or lost, and export back."""

import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from patients.models import HistoryEntry, Note, Patient
from queue_app.models import QueueEntry
from tests.legacy.conftest import by_file
from tests.legacy.test_export_json import snapshot

pytestmark = pytest.mark.django_db
OPD = Path(__file__).parent / "opd_real"


@pytest.fixture
def opd(tmp_path) -> Path:
    target = tmp_path / "opd"
    shutil.copytree(OPD, target)
    (target / "README.md").unlink()
    return target


def test_the_real_opd_files_import_with_no_rejects(opd, migrate):
    code, report, rejects = migrate(opd)
    assert rejects == [] and code == 0
    files = by_file(report)
    assert {k: f["rejected"] for k, f in files.items()} == {
        "patients": 0, "queue": 0, "notes": 0, "history": 0,
    }  # fmt: skip
    assert {k: f["created"] for k, f in files.items()} == {
        "patients": 5, "queue": 3, "notes": 3, "history": 3,
    }  # fmt: skip
    assert files["queue"]["mapped"] == {"status in_progress read as in_consultation": 1}


def test_opd_notes_become_soap_notes_with_what_the_doctor_needs(opd, migrate):
    migrate(opd)
    note = Note.objects.get(pk="NOTE_2E5DDEBF")
    assert note.type == Note.Type.SOAP
    assert note.content == {
        "subjective": "Cough for three days, dry, worse at night.",
        "objective": "Chest clear on auscultation.",
        "assessment": "Upper respiratory tract infection",
        "plan": "Steam inhalation, review in 5 days.",
        "chief_complaint": "Cough for 3 days",
        "medications": ["Paracetamol 500mg SOS", "Cetirizine 10mg OD"],
    }
    assert note.language == "pa" and note.transcript == "ਮੈਨੂੰ ਤਿੰਨ ਦਿਨਾਂ ਤੋਂ ਖੰਘ ਹੈ"
    assert note.audio_file_url == "PAT_5308F7E6_audio_2e5ddebf.m4a"
    assert note.extra == {}


def test_opd_timeline_summaries_are_history_of_their_own_dated_by_created_at(opd, migrate):
    migrate(opd)
    entry = HistoryEntry.objects.get(pk="TIMELINE_437C348E")
    assert entry.type == HistoryEntry.Type.TIMELINE_SUMMARY
    assert entry.batch_id == "BATCH_00E5586D"
    assert entry.content == {
        "summary": "Rishi2, a 20-year-old patient, has been diagnosed with diabetes and "
        "elevated blood pressure.",
        "document_count": 4, "event_count": 4, "current_medications_count": 5,
    }  # fmt: skip
    assert entry.date == entry.created_at and entry.date is not None
    assert entry.extra == {}


def test_opd_queue_status_in_progress_is_a_consultation(opd, migrate):
    migrate(opd)
    assert QueueEntry.objects.get(pk="Q_722CC780").status == "in_consultation"


def test_opd_uhids_and_visit_fields_are_kept(opd, migrate):
    migrate(opd)
    assert Patient.objects.get(pk="PAT_B396D915").uhid == "TEST123"
    assert Patient.objects.get(pk="PAT_5308F7E6").uhid == "91234567890123"
    assert Patient.objects.get(pk="PAT_72D90B86").uhid is None
    assert Patient.objects.get(pk="PAT_B396D915").extra == {
        "status": "active", "last_visit": "2025-11-08T16:40:12.500113", "visit_count": 3,
    }  # fmt: skip


def test_opd_data_exports_back_and_reimports_to_the_same_database(opd, migrate, tmp_path):
    migrate(opd)
    before = snapshot()
    out = tmp_path / "export"
    call_command("export_json", str(out), only="patients,queue,notes,history")
    patients = json.loads((out / "patients.json").read_text())
    assert {k: patients["PAT_B396D915"][k] for k in ("status", "last_visit", "visit_count")} == {
        "status": "active", "last_visit": "2025-11-08T16:40:12.500113", "visit_count": 3,
    }  # fmt: skip
    notes = json.loads((out / "notes.json").read_text())
    (first,) = notes["PAT_1FE660EB"]
    assert first["language"] == "mixed" and first["transcript"].startswith(" नाम")
    history = json.loads((out / "history.json").read_text())
    assert {h["batch_id"] for h in history} >= {"BATCH_00E5586D", "BATCH_BC45D072"}

    for model in (QueueEntry, Note, HistoryEntry, Patient):
        model.objects.all().delete()
    code, report, rejects = migrate(out)
    assert rejects == [] and code == 0
    assert snapshot() == before


def test_big_numbers_and_nan_survive_import_and_export(tmp_path, migrate):
    src = tmp_path / "in"
    src.mkdir()
    (src / "patients.json").write_text(
        '{"patient_id": "PAT_1", "name": "A", "big": 123456789012345678901234567890, '
        '"huge": 1e400, "n": NaN, "deep": {"x": [Infinity, 18446744073709551617]}}\n'
        '{"patient_id": "PAT_2", "name": "B"}\n'
    )
    code, _, rejects = migrate(src)
    assert (code, rejects) == (0, [])
    extra = Patient.objects.get(pk="PAT_1").extra
    assert extra["big"] == {"$numberDecimal": "123456789012345678901234567890"}
    assert extra["n"] == {"$numberDouble": "NaN"}
    before = snapshot()
    out = tmp_path / "out"
    call_command("export_json", str(out), only="patients")
    text = (out / "patients.json").read_text()
    assert '"big": 123456789012345678901234567890' in text and '"huge": 1E+400' in text
    Patient.objects.all().delete()
    code, _, rejects = migrate(out)
    assert (code, rejects) == (0, []) and snapshot() == before
