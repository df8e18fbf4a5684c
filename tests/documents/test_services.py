from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from documents import services
from documents.filetypes import FileRejected
from documents.models import Document, DocumentBatch, MedicalTimeline
from documents.timeline import timeline_id
from patients.models import HistoryEntry
from tests.documents.conftest import image_bytes, pdf_bytes, upload, wav_bytes

pytestmark = pytest.mark.django_db


def _photos(n=3):
    return [upload(f"rx{i}.jpg", image_bytes()) for i in range(n)]


def test_three_photos_make_one_batch_with_files_in_storage(patient, run_tasks):
    batch = services.batch_upload(patient=patient, files=_photos(), by="nurse_rekha")
    docs = list(batch.documents.order_by("id"))
    assert len(docs) == 3 and {d.kind for d in docs} == {"image"}
    for doc in docs:
        assert doc.file.name == f"documents/{patient.pk}/{patient.pk}_{doc.pk}.jpg"
        assert doc.file.storage.exists(doc.file.name)
        assert doc.thumbnail and doc.file.storage.exists(doc.thumbnail.name)
        assert doc.content_type == "image/jpeg" and doc.size > 0 and len(doc.sha256) == 64
    run_tasks()
    batch.refresh_from_db()
    assert batch.status == DocumentBatch.Status.COMPLETED and batch.completed_at
    assert set(batch.documents.values_list("status", flat=True)) == {"completed"}


def test_pdf_and_wav_are_detected_from_content(patient):
    batch = services.batch_upload(
        patient=patient, files=[upload("scan", pdf_bytes()), upload("a.wav", wav_bytes())]
    )
    kinds = dict(batch.documents.values_list("kind", "content_type"))
    assert kinds == {"pdf": "application/pdf", "audio": "audio/wav"}
    pdf = batch.documents.get(kind="pdf")
    assert pdf.thumbnail  # first page rendered


def test_renamed_text_file_is_refused_naming_it_and_nothing_is_written(patient, private_media):
    files = [upload("ok.jpg", image_bytes()), upload("report.jpg", b"not an image at all")]
    with pytest.raises(FileRejected, match="report.jpg is not a JPEG"):
        services.batch_upload(patient=patient, files=files)
    assert not Document.objects.exists() and not DocumentBatch.objects.exists()
    assert not private_media.exists() or not any(p.is_file() for p in private_media.rglob("*"))


def test_png_named_jpg_is_refused(patient):
    with pytest.raises(FileRejected, match="named as JPEG image but its content is PNG"):
        services.batch_upload(patient=patient, files=[upload("x.jpg", image_bytes("PNG"))])


def test_too_large_file_is_refused_as_too_large(patient, settings):
    settings.DOCUMENT_MAX_BYTES = 100
    with pytest.raises(FileRejected, match="big.jpg is") as refused:
        services.batch_upload(patient=patient, files=[upload("big.jpg", image_bytes())])
    assert refused.value.too_large


def test_database_failure_leaves_no_file_behind(patient, private_media):
    with mock.patch.object(Document, "save", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            services.batch_upload(patient=patient, files=_photos(2))
    assert not DocumentBatch.objects.exists() and not Document.objects.exists()
    assert not any(p.is_file() for p in private_media.rglob("*"))


def test_storage_failure_leaves_no_row_and_no_file(patient, private_media):
    storage = Document._meta.get_field("file").storage
    real_save = storage.save
    calls = []

    def failing_save(name, content, max_length=None):
        calls.append(name)
        if len(calls) == 3:  # the second document's file (the first has file + thumbnail)
            raise OSError("bucket unavailable")
        return real_save(name, content, max_length=max_length)

    with mock.patch.object(storage, "save", side_effect=failing_save):
        with pytest.raises(OSError):
            services.batch_upload(patient=patient, files=_photos(2))
    assert not Document.objects.exists() and not DocumentBatch.objects.exists()
    assert not any(p.is_file() for p in private_media.rglob("*"))


def test_failing_extractor_fails_document_and_batch_with_the_error(patient, settings, run_tasks):
    settings.DOCUMENT_EXTRACTOR = "tests.documents.test_services.broken_extractor"
    batch = services.batch_upload(patient=patient, files=_photos(1))
    run_tasks()
    batch.refresh_from_db()
    doc = batch.documents.get()
    assert doc.status == "failed" and "unreadable" in doc.error
    assert batch.status == "failed" and doc.pk in batch.error


def broken_extractor(document):
    raise ValueError("unreadable photo")


def read_prescription(document):
    return {
        "visit_date": "2024-03-01",
        "medications": [{"name": "Metformin", "dosage": "500 mg", "frequency": "BD"}],
    }


def test_extracted_data_waits_for_review(patient, settings, run_tasks):
    settings.DOCUMENT_EXTRACTOR = "tests.documents.test_services.read_prescription"
    batch = services.batch_upload(patient=patient, files=_photos(1))
    run_tasks()
    doc = batch.documents.get()
    assert doc.extracted_data["medications"][0]["name"] == "Metformin"
    assert not HistoryEntry.objects.filter(document_id=doc.pk).exists()


def test_review_makes_linked_digitizer_entries_once(patient):
    doc = services.batch_upload(patient=patient, files=_photos(1)).documents.get()
    data = {
        "medications": [{"name": "Amlodipine", "dosage": "5 mg", "duration": "30 days"}],
        "diagnoses": ["Hypertension"],
        "lab_values": [{"test": "HbA1c", "value": "7.2", "unit": "%"}],
        "doctor": "Dr Mehta",
    }
    entries = services.document_review(document=doc, data=data, by="dr_khan")
    assert sorted(e.type for e in entries) == ["diagnosis", "lab_result", "prescription"]
    assert {e.source for e in entries} == {"digitizer"} and {e.document_id for e in entries} == {
        doc.pk
    }
    prescription = next(e for e in entries if e.type == "prescription")
    assert prescription.content["medications"] == ["Amlodipine 5 mg for 30 days"]
    doc.refresh_from_db()
    assert doc.reviewed_by == "dr_khan"
    with pytest.raises(ValidationError, match="already been reviewed"):
        services.document_review(document=doc, data=data, by="nurse_rekha")
    assert HistoryEntry.objects.filter(document_id=doc.pk).count() == 3


def test_every_write_is_audited(patient, run_tasks):
    batch = services.batch_upload(patient=patient, files=_photos(1))
    run_tasks()
    doc = batch.documents.get()
    services.document_review(document=doc, data={"diagnoses": ["Asthma"]}, by="dr_khan")
    audited = set(LogEntry.objects.values_list("object_pk", "action"))
    assert (doc.pk, LogEntry.Action.CREATE) in audited
    assert (batch.pk, LogEntry.Action.CREATE) in audited
    assert (doc.pk, LogEntry.Action.UPDATE) in audited  # processed, reviewed
    assert (batch.pk, LogEntry.Action.UPDATE) in audited


def test_timeline_is_rebuilt_from_history_notes_and_documents(patient):
    doc = services.batch_upload(patient=patient, files=_photos(1)).documents.get()
    services.document_review(
        document=doc,
        data={
            "visit_date": __import__("datetime").date(2024, 3, 1),
            "medications": [{"name": "Metformin", "dosage": "500 mg"}],
            "diagnoses": ["Type 2 diabetes"],
        },
        by="dr_khan",
    )
    timeline = MedicalTimeline.objects.get(pk=timeline_id(patient.pk))
    assert timeline.total_documents == 1
    assert [m["name"] for m in timeline.current_medications] == ["Metformin"]
    types = [e["event_type"] for e in timeline.timeline_events]
    assert types[:2] == ["diagnosis", "prescription"] and "document" in types
    assert "Metformin" in timeline.summary
    assert MedicalTimeline.objects.filter(patient=patient).count() == 1


def test_summariser_hook_writes_the_summary(patient, settings):
    settings.MEDICAL_TIMELINE_SUMMARISER = "tests.documents.test_services.short_summary"
    services.batch_upload(patient=patient, files=_photos(1))
    assert MedicalTimeline.objects.get(patient=patient).summary == "1 events"


def short_summary(data):
    return f"{len(data['timeline_events'])} events"


def test_database_task_backend_queues_and_its_worker_processes(patient, settings):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    batch = services.batch_upload(patient=patient, files=_photos(2))
    assert batch.status == "pending" and DBTaskResult.objects.filter(status="READY").count() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    batch.refresh_from_db()
    assert batch.status == "completed"
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_heic_photo_is_taken_with_a_thumbnail(patient):
    import io

    from PIL import Image

    out = io.BytesIO()  # Pillow writes HEIF once documents.thumbnails registered pillow-heif
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "HEIF")
    doc = services.batch_upload(
        patient=patient, files=[upload("IMG_0001.HEIC", out.getvalue())]
    ).documents.get()
    assert (doc.kind, doc.content_type) == ("image", "image/heic") and doc.thumbnail
