"""Write the OPD system's collections back: batches.json, documents.json, timelines.json as
mongoexport writes them (Extended JSON lines), and the stored files under their legacy names."""

from __future__ import annotations

import json
import os
from pathlib import Path

from documents.models import Document, DocumentBatch, MedicalTimeline
from legacy.export import iso


def _jsonl(path: Path, records) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def _date(value):
    return None if value is None else {"$date": iso(value)}


def _batches():
    for b in DocumentBatch.objects.order_by("id").iterator():
        ids = b.extra.get("document_ids") or list(
            Document.objects.filter(batch_id=b.pk)
            .order_by("uploaded_at", "id")
            .values_list("id", flat=True)
        )
        record = {"batch_id": b.pk, "patient_id": b.patient_id, "document_ids": ids,
                  "status": b.status, "created_at": _date(b.created_at),
                  "completed_at": _date(b.completed_at)}  # fmt: skip
        yield {**b.extra, **record}


def _copy_out(document: Document, target: Path, copied: list) -> None:
    with document.file.storage.open(document.file.name, "rb") as src, open(target, "wb") as out:
        for chunk in iter(lambda: src.read(1 << 16), b""):
            out.write(chunk)
    copied.append(target.name)


def _documents(uploads: Path | None, copied: list):
    for d in Document.objects.order_by("id").iterator():
        if d.note_id:  # a note's recording: only its file goes back, as the old system kept it
            if uploads is not None and d.file.name:
                _copy_out(d, uploads / d.original_name, copied)
            continue
        extra = dict(d.extra)
        file_field = extra.pop("file_field", "")
        batch_id = d.batch_id or extra.pop("batch_id", None)
        ext = d.file.name.rsplit(".", 1)[-1] if d.file.name else ""
        legacy_name = os.path.basename(file_field) or (
            f"{d.patient_id}_{d.pk}.{ext}" if ext else ""
        )
        if uploads is not None and d.file.name:
            _copy_out(d, uploads / legacy_name, copied)
        record = {"document_id": d.pk, "patient_id": d.patient_id, "batch_id": batch_id,
                  "status": d.status, "extracted_data": d.extracted_data,
                  "uploaded_at": _date(d.uploaded_at)}  # fmt: skip
        if d.original_name and d.original_name != legacy_name:
            record["original_filename"] = d.original_name
        if legacy_name:
            record["filename"] = file_field or legacy_name
        yield {**extra, **record}


def _timelines():
    for t in MedicalTimeline.objects.filter(kind=MedicalTimeline.Kind.AI).order_by("id").iterator():
        record = {"_id": {"$oid": t.pk} if len(t.pk) == 24 else t.pk, "patient_id": t.patient_id,
                  "generated_at": _date(t.generated_at), "total_documents": t.total_documents,
                  "timeline_events": t.timeline_events,
                  "current_medications": t.current_medications,
                  "chronic_conditions": t.chronic_conditions, "allergies": t.allergies,
                  "summary": t.summary}  # fmt: skip
        if t.batch_id:
            record["batch_id"] = t.batch_id
        yield {**t.extra, **record}


def export_opd(directory: str, *, uploads: str | None = None) -> dict[str, int]:
    """Write batches.json, documents.json, timelines.json (Extended JSON lines, as mongoexport)
    and, with `uploads`, every document's file under its legacy name. Clinic's own timelines
    are rebuilt from the records, so only the legacy AI timelines are written back."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(uploads) if uploads else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    copied: list[str] = []
    written = {
        "batches": _jsonl(out / "batches.json", _batches()),
        "documents": _jsonl(out / "documents.json", _documents(folder, copied)),
        "timelines": _jsonl(out / "timelines.json", _timelines()),
    }
    if folder is not None:
        written["files"] = len(copied)
    return written
