"""migrate_json / export_json with the OPD system's documents, batches and timelines."""

import json
import shutil

import pytest

from documents.models import Document, DocumentBatch, MedicalTimeline
from legacy import opd_documents
from legacy.normalise import Rejected
from tests.documents.conftest import image_bytes, pdf_bytes, wav_bytes
from tests.factories import NoteFactory, PatientFactory

pytestmark = pytest.mark.django_db
PID = "PAT_72D90B86"
OID = "6734a1f0c2b4e95d1a2b3c4d"


def _lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def export(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    patient = PatientFactory(id=PID)
    # As the OPD system wrote its notes: the recording's file name (kept in `extra` on import).
    NoteFactory(id="NOTE_AUDIO01", patient=patient, extra={"audio_file": f"{PID}_audio_ab12cd.wav"})
    folder, uploads = tmp_path / "mongo", tmp_path / "uploads"
    folder.mkdir()
    uploads.mkdir()
    _lines(
        folder / "batches.json",
        [
            {
                "_id": {"$oid": "6734a1f0c2b4e95d1a2b3c40"},
                "batch_id": "BATCH_0A1B2C3D",
                "patient_id": PID,
                "document_ids": ["DOC_00000001", "DOC_00000002", "DOC_00000003"],
                "status": "completed",
                "created_at": {"$date": "2024-11-08T09:12:44.123Z"},
                "completed_at": {"$date": {"$numberLong": "1731057200000"}},
            }
        ],
    )
    doc = {"patient_id": PID, "batch_id": "BATCH_0A1B2C3D", "status": "completed"}
    _lines(
        folder / "documents.json",
        [
            {**doc, "document_id": "DOC_00000001", "filename": f"{PID}_DOC_00000001.jpg",
             "extracted_data": {"medications": [{"name": "Metformin"}]},
             "uploaded_at": {"$date": "2024-11-08T09:12:44Z"}},
            {**doc, "document_id": "DOC_00000002", "filename": f"{PID}_DOC_00000002.jpg",
             "extracted_data": None},
            {**doc, "document_id": "DOC_00000003", "filename": f"{PID}_DOC_00000003.jpg",
             "status": "failed"},
            {**doc, "document_id": "DOC_00000004", "filename": f"{PID}_DOC_00000004.pdf"},
            {**doc, "document_id": "DOC_00000005", "patient_id": "PAT_UNKNOWN0"},
        ],
    )  # fmt: skip
    (uploads / f"{PID}_DOC_00000001.jpg").write_bytes(image_bytes())
    (uploads / f"{PID}_DOC_00000003.jpg").write_bytes(b"this is a text file, renamed")
    (uploads / f"{PID}_DOC_00000004.pdf").write_bytes(pdf_bytes())
    (uploads / f"{PID}_audio_ab12cd.wav").write_bytes(wav_bytes())
    (uploads / f"{PID}_audio_ffffff.wav").write_bytes(wav_bytes())  # no note names it
    _lines(
        folder / "timelines.json",
        [
            {
                "_id": {"$oid": OID},
                "patient_id": PID,
                "generated_at": {"$date": "2024-11-08T10:00:00Z"},
                "total_documents": {"$numberInt": "3"},
                "timeline_events": [
                    {"date": "2024-01-15", "event_type": "prescription", "description": "Rx",
                     "medications": [{"name": "Metformin", "dosage": "500mg"}]}
                ],
                "current_medications": [{"name": "Metformin"}],
                "chronic_conditions": ["Diabetes"],
                "allergies": [],
                "summary": "Diabetic on metformin.",
            }
        ],
    )  # fmt: skip
    return folder, uploads


def test_normalisers_reject_what_cannot_be_imported():
    with pytest.raises(Rejected, match="document_id"):
        opd_documents.document({"patient_id": PID})
    with pytest.raises(Rejected, match="status"):
        opd_documents.batch({"batch_id": "B", "patient_id": PID, "status": "lost"})
    with pytest.raises(Rejected, match="timeline_events"):
        opd_documents.timeline({"patient_id": PID, "timeline_events": "x"})


def test_import_accounts_for_every_record_and_file(export, migrate, tmp_path):
    folder, uploads = export
    code, report, _ = migrate(folder, uploads=str(uploads))
    assert code == 1  # a rejected record and file problems
    docs = report["documents"]
    assert docs["batches"]["created"] == 1 and docs["timelines"]["created"] == 1
    d = docs["documents"]
    assert (d["created"], d["rejected"]) == (4, 1)
    assert d["rejects"][0]["id"] == "DOC_00000005" and "PAT_UNKNOWN0" in d["rejects"][0]["reason"]
    assert d["files"]["copied"] == 2 and len(d["files"]["problems"]) == 2

    ok = Document.objects.get(pk="DOC_00000001")
    assert ok.batch_id == "BATCH_0A1B2C3D" and ok.kind == "image" and ok.thumbnail
    assert (
        ok.file.storage.open(ok.file.name).read()
        == (uploads / f"{PID}_DOC_00000001.jpg").read_bytes()
    )
    assert ok.extracted_data == {"medications": [{"name": "Metformin"}]}
    assert "missing" in Document.objects.get(pk="DOC_00000002").error
    refused = Document.objects.get(pk="DOC_00000003")
    assert "refused" in refused.error and not refused.file and refused.status == "failed"
    assert Document.objects.get(pk="DOC_00000004").content_type == "application/pdf"
    timeline = MedicalTimeline.objects.get(pk=OID)
    assert timeline.kind == "ai" and timeline.total_documents == 3
    assert timeline.generated_at.isoformat().startswith("2024-11-08T10:00")
    assert DocumentBatch.objects.get().extra["document_ids"][0] == "DOC_00000001"
    audio = Document.objects.get(note_id="NOTE_AUDIO01")
    assert audio.kind == "audio" and audio.content_type == "audio/wav" and audio.file
    assert docs["note_audio"]["created"] == 1
    assert "no note" in docs["note_audio"]["files"]["problems"][0]["problem"]


def test_rerun_changes_nothing_and_dry_run_writes_nothing(export, migrate):
    folder, uploads = export
    code, report, _ = migrate(folder, uploads=str(uploads), dry_run=True)
    assert not Document.objects.exists() and report["documents"]["documents"]["created"] == 4
    migrate(folder, uploads=str(uploads))
    names = sorted(Document.objects.values_list("file", flat=True))
    _, again, _ = migrate(folder, uploads=str(uploads))
    docs = again["documents"]
    assert docs["documents"]["unchanged"] == 4 and docs["documents"]["created"] == 0
    assert docs["documents"]["files"]["present"] == 2 and docs["documents"]["files"]["copied"] == 0
    assert docs["batches"]["unchanged"] == 1 and docs["timelines"]["unchanged"] == 1
    assert docs["note_audio"]["unchanged"] == 1
    assert sorted(Document.objects.values_list("file", flat=True)) == names


def _snapshot():
    fields = ["id", "patient_id", "batch_id", "status", "extracted_data", "uploaded_at", "kind",
              "content_type", "sha256", "size", "note_id"]  # fmt: skip
    return (
        list(Document.objects.order_by("id").values(*fields)),
        list(DocumentBatch.objects.order_by("id").values("id", "status", "created_at",
                                                         "completed_at")),
        list(MedicalTimeline.objects.filter(kind="ai").order_by("id").values(
            "id", "generated_at", "timeline_events", "summary", "total_documents")),
    )  # fmt: skip


def test_export_then_fresh_import_gives_the_same_rows_and_files(
    export, migrate, tmp_path, settings
):
    from django.core.management import call_command

    folder, uploads = export
    migrate(folder, uploads=str(uploads))
    before = _snapshot()
    files_before = {d.pk: d.file.read() for d in Document.objects.exclude(file="")}
    out, out_uploads = tmp_path / "out", tmp_path / "out_uploads"
    call_command("export_json", str(out), uploads=str(out_uploads), verbosity=0)
    assert {p.name for p in out_uploads.iterdir()} == {
        f"{PID}_DOC_00000001.jpg",
        f"{PID}_DOC_00000004.pdf",
        f"{PID}_audio_ab12cd.wav",
    }
    assert "note_id" not in (out / "documents.json").read_text()
    Document.objects.all().delete()
    DocumentBatch.objects.all().delete()
    MedicalTimeline.objects.all().delete()
    shutil.rmtree(settings.MEDIA_ROOT)
    only_opd = tmp_path / "only_opd"
    only_opd.mkdir()
    for kind in opd_documents.KINDS:
        shutil.copy(out / f"{kind}.json", only_opd)
    migrate(only_opd, uploads=str(out_uploads))
    assert _snapshot() == before
    assert {d.pk: d.file.read() for d in Document.objects.exclude(file="")} == files_before


def test_missing_uploads_folder_is_a_clear_error(export, migrate):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such folder"):
        migrate(export[0], uploads="/nonexistent/uploads")
