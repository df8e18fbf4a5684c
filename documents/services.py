"""Writes for documents: upload a batch (files and rows together), process it, review it."""

import hashlib
import logging
from datetime import date, datetime, time
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.module_loading import import_string

from clinic.db import atomic
from documents.filetypes import detect
from documents.models import Document, DocumentBatch, Status
from documents.thumbnails import render_thumbnail
from patients.models import HistoryEntry, Patient
from patients.services import history_create

logger = logging.getLogger(__name__)


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _stored_document(*, patient: Patient, batch: DocumentBatch, upload, by: str, note_id: str):
    found = detect(upload)
    document = Document(
        patient=patient,
        batch=batch,
        note_id=note_id,
        original_name=(upload.name or "")[:255],
        kind=found.kind,
        content_type=found.content_type,
        size=upload.size,
        sha256=_sha256(upload),
        uploaded_by=by,
        uploaded_at=batch.created_at,
    )
    document.file.save(f"upload.{found.extension}", upload, save=False)
    upload.seek(0)
    preview = render_thumbnail(upload.read(), found.kind)
    if preview:
        document.thumbnail.save("thumbnail.png", ContentFile(preview), save=False)
    return document


def _delete_files(documents: list[Document]) -> None:
    for document in documents:
        for field in (document.file, document.thumbnail):
            if field.name:
                field.storage.delete(field.name)


def batch_upload(
    *, patient: Patient, files: list, by: str = "", note_id: str = ""
) -> DocumentBatch:
    """Store `files` as one batch for `patient` and queue it for processing.

    Every file is checked before anything is written; a failure while storing or saving leaves
    no file and no row behind (files are deleted again when the database write fails).
    """
    if not files:
        raise ValidationError({"files": ["Choose at least one file to upload."]})
    for upload in files:
        detect(upload)
    batch = DocumentBatch(patient=patient, created_by=by, created_at=timezone.now())
    stored: list[Document] = []
    try:
        for upload in files:
            stored.append(
                _stored_document(
                    patient=patient, batch=batch, upload=upload, by=by, note_id=note_id
                )
            )
        with atomic():
            batch.save(force_insert=True)
            for document in stored:
                document.save(force_insert=True)
    except BaseException:
        _delete_files(stored)
        raise
    from documents.tasks import process_batch  # the task module imports these services

    process_batch.enqueue(batch_id=batch.pk)
    from documents.timeline import medical_timeline_rebuild

    medical_timeline_rebuild(patient_id=patient.pk)
    return DocumentBatch.objects.get(pk=batch.pk)


def _audit(instance, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Conditional updates bypass auditlog's signals; record them the way it would."""
    changes = {k: [str(old.get(k)), str(v)] for k, v in new.items() if old.get(k) != v}
    if changes:
        LogEntry.objects.log_create(instance, action=LogEntry.Action.UPDATE, changes=changes)


def _extractor():
    return import_string(settings.DOCUMENT_EXTRACTOR)


def document_process(*, document_id: str) -> Document:
    """pending → processing → completed (with what the extractor read) or failed (with why)."""
    claimed = Document.objects.filter(pk=document_id, status=Status.PENDING).update(
        status=Status.PROCESSING
    )
    document = Document.objects.get(pk=document_id)
    if not claimed:  # another worker has it, or it is done
        return document
    try:
        extracted = _extractor()(document)
        if extracted is not None and not isinstance(extracted, dict):
            raise TypeError(f"the extractor returned {type(extracted).__name__}, not a dict")
    except Exception as exc:
        logger.warning("Extracting %s failed", document_id, exc_info=True)
        changes = {"status": Status.FAILED, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    else:
        changes = {"status": Status.COMPLETED, "error": "", "extracted_data": extracted}
    Document.objects.filter(pk=document_id).update(processed_at=timezone.now(), **changes)
    _audit(document, {"status": Status.PENDING}, changes)
    return Document.objects.get(pk=document_id)


def batch_process(*, batch_id: str) -> DocumentBatch:
    """Process every document of the batch; the batch fails when one of them does."""
    DocumentBatch.objects.filter(pk=batch_id, status=Status.PENDING).update(
        status=Status.PROCESSING
    )
    batch = DocumentBatch.objects.get(pk=batch_id)
    documents = [
        document_process(document_id=pk)
        for pk in Document.objects.filter(batch_id=batch_id)
        .order_by("id")
        .values_list("pk", flat=True)
    ]
    failed = [d for d in documents if d.status == Status.FAILED]
    errors = "\n".join(f"{d.pk} ({d.original_name}): {d.error}" for d in failed)
    changes = {"status": Status.FAILED if failed else Status.COMPLETED, "error": errors}
    DocumentBatch.objects.filter(pk=batch_id).update(completed_at=timezone.now(), **changes)
    _audit(batch, {"status": Status.PENDING, "error": ""}, changes)
    from documents.timeline import medical_timeline_rebuild

    medical_timeline_rebuild(patient_id=batch.patient_id)
    return DocumentBatch.objects.get(pk=batch_id)


def _as_datetime(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


def _medication_text(med: dict) -> str:
    parts = [med.get("name", ""), med.get("dosage", ""), med.get("frequency", "")]
    text = " ".join(p for p in parts if p)
    return f"{text} for {med['duration']}" if med.get("duration") else text


def _entries_for(data: dict[str, Any]) -> list[tuple[str, dict]]:
    doctor, notes = data.get("doctor", ""), data.get("notes", "")
    common = {k: v for k, v in {"doctor": doctor, "notes": notes}.items() if v}
    entries = []
    if data.get("medications"):
        meds = data["medications"]
        entries.append(
            (
                HistoryEntry.Type.PRESCRIPTION,
                {"medications": [_medication_text(m) for m in meds], "prescribed": meds, **common},
            )
        )
    if data.get("diagnoses"):
        entries.append((HistoryEntry.Type.DIAGNOSIS, {"diagnoses": data["diagnoses"], **common}))
    if data.get("lab_values"):
        labs = data["lab_values"]
        results = [" ".join(str(lab.get(k, "")) for k in ("test", "value", "unit")) for lab in labs]
        entries.append(
            (HistoryEntry.Type.LAB_RESULT, {"lab_values": labs, "results": results, **common})
        )
    if not entries and (data.get("visit_date") or common):
        entries.append((HistoryEntry.Type.VISIT, common))
    return entries


def document_review(*, document: Document, data: dict[str, Any], by: str) -> list[HistoryEntry]:
    """Confirm what a document says: it becomes history entries (source=digitizer) linked to it.

    `data`: visit_date, doctor, notes, medications [{name, dosage, frequency, duration}],
    diagnoses [text], lab_values [{test, value, unit}]. A document is confirmed once.
    """
    entries = _entries_for(data)
    if not entries:
        raise ValidationError(
            "Nothing to confirm: enter a medication, diagnosis, lab value or date."
        )
    with atomic():
        now = timezone.now()
        # Conditional: two staff confirming the same document at once make one set of entries.
        if not Document.objects.filter(pk=document.pk, reviewed_at=None).update(
            reviewed_at=now, reviewed_by=by
        ):
            raise ValidationError(f"{document.pk} has already been reviewed.")
        _audit(document, {}, {"reviewed_at": now, "reviewed_by": by})
        created = [
            history_create(
                patient=document.patient,
                type=kind,
                date=_as_datetime(data.get("visit_date")),
                content=content,
                source=HistoryEntry.Source.DIGITIZER,
                document_id=document.pk,
            )
            for kind, content in entries
        ]
    from documents.timeline import medical_timeline_rebuild

    medical_timeline_rebuild(patient_id=document.patient_id)
    return created
