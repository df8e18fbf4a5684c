"""The OPD system's MongoDB collections `documents`, `batches`, `timelines` (mongoexport files):
normalisers, the import with `--uploads DIR` (each referenced file copied into storage and
checked), and stores note audio. The export back is legacy/opd_export.py.

Kept apart from the importer's table of kinds: these records are few (thousands, not
millions) and carry files, so they go through the ORM, one record at a time, idempotently:
a record whose row already says the same (and whose file is stored with the same SHA-256)
is counted unchanged and not written.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db.models import Q

from clinic.ids import derived_id
from documents.filetypes import ACCEPTED, FileRejected, detect
from documents.models import Document, DocumentBatch, MedicalTimeline, Status
from documents.thumbnails import render_thumbnail
from legacy.export import iso
from legacy.normalise import Rejected, _extra, identifier, text, timestamp
from legacy.readers import ReadError, plain, read_items
from patients.models import Note, Patient

KINDS = ("batches", "documents", "timelines")  # batches first: documents point at them
STATUSES = {"pending", "processing", "completed", "failed"}
FILE_FIELDS = ("filename", "file_name", "stored_filename", "file_path", "file")
DOCUMENT_FIELDS = {"document_id", "patient_id", "batch_id", "status", "extracted_data",
                   "uploaded_at", "original_filename", *FILE_FIELDS}  # fmt: skip
BATCH_FIELDS = {"batch_id", "patient_id", "status", "created_at", "completed_at"}
TIMELINE_FIELDS = {"_id", "patient_id", "generated_at", "total_documents", "timeline_events",
                   "current_medications", "chronic_conditions", "allergies", "summary",
                   "batch_id"}  # fmt: skip
EXT_TYPES = {d.extension: d for d in ACCEPTED.values()} | {"jpeg": ACCEPTED["image/jpeg"]}


def find_files(paths: list[str]) -> dict[str, str]:
    """{kind: path} of documents/batches/timelines files among `paths` (files or folders)."""
    found = {}
    for given in map(Path, paths):
        candidates = [given / f"{k}{s}" for k in KINDS for s in (".json", ".jsonl")]
        for path in candidates if given.is_dir() else [given]:
            kind = path.name.split(".")[0]
            if kind in KINDS and path.is_file():
                found[kind] = str(path)
    return {k: found[k] for k in KINDS if k in found}


def _status(value, default: str) -> str:
    value = value or default
    if value not in STATUSES:
        raise Rejected(f"status {value!r} is not one of {', '.join(sorted(STATUSES))}")
    return value


def _list(value, name: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise Rejected(f"{name} should be a list")
    return value


def batch(record) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the batch is not a JSON object")
    extra = _extra(record, BATCH_FIELDS)
    return {
        "id": identifier(record.get("batch_id"), "batch_id"),
        "patient_id": identifier(record.get("patient_id"), "patient_id"),
        "status": _status(record.get("status"), "pending"),
        "created_at": timestamp(record.get("created_at"), "created_at"),
        "completed_at": timestamp(record.get("completed_at"), "completed_at"),
        "extra": extra,
    }


def document(record) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the document is not a JSON object")
    extracted = record.get("extracted_data")
    if extracted is not None and not isinstance(extracted, dict):
        raise Rejected("extracted_data should be an object or null")
    file_name = next((text(record[f], f) for f in FILE_FIELDS if record.get(f)), "")
    extra = _extra(record, DOCUMENT_FIELDS)
    if file_name:
        extra["file_field"] = file_name  # which key and path the old system used, for export
    return {
        "id": identifier(record.get("document_id"), "document_id"),
        "patient_id": identifier(record.get("patient_id"), "patient_id"),
        "batch_id": text(record.get("batch_id"), "batch_id").strip(),
        "status": _status(record.get("status"), "processing"),
        "extracted_data": extracted,
        "uploaded_at": timestamp(record.get("uploaded_at"), "uploaded_at"),
        "original_name": text(record.get("original_filename"), "original_filename"),
        "legacy_file": os.path.basename(file_name),
        "extra": extra,
    }


def timeline(record) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the timeline is not a JSON object")
    patient_id = identifier(record.get("patient_id"), "patient_id")
    generated = timestamp(record.get("generated_at"), "generated_at")
    legacy_id = text(record.get("_id"), "_id").strip()
    total = record.get("total_documents") or 0
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise Rejected(f"total_documents is not a whole number: {total!r}")
    return {
        "id": legacy_id or derived_id("TL", "ai", patient_id, iso(generated)),
        "patient_id": patient_id,
        "kind": MedicalTimeline.Kind.AI,
        "generated_at": generated,
        "total_documents": total,
        "timeline_events": _list(record.get("timeline_events"), "timeline_events"),
        "current_medications": _list(record.get("current_medications"), "current_medications"),
        "chronic_conditions": _list(record.get("chronic_conditions"), "chronic_conditions"),
        "allergies": _list(record.get("allergies"), "allergies"),
        "summary": text(record.get("summary"), "summary"),
        "batch_id": text(record.get("batch_id"), "batch_id").strip(),
        "extra": _extra(record, TIMELINE_FIELDS),
    }


@dataclass
class KindReport:
    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)
    files: dict = field(default_factory=lambda: {"copied": 0, "present": 0, "problems": []})
    error: str = ""

    def as_dict(self) -> dict:
        return {**self.__dict__, "rejected": len(self.rejected), "rejects": self.rejected}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


class OpdImporter:
    """`run(files)` → {kind: KindReport}; `uploads` is the old system's uploads folder."""

    def __init__(self, *, uploads: str | None = None, dry_run: bool = False):
        self.uploads = Path(uploads) if uploads else None
        self.dry_run = dry_run
        self.patients: set[str] = set()
        self.batches: set[str] = set()

    def run(self, files: dict[str, str]) -> dict[str, KindReport]:
        reports = {}
        for kind, path in files.items():
            report = reports[kind] = KindReport(file=os.path.basename(path))
            if os.path.getsize(path) == 0:  # mongoexport of an empty collection
                continue
            try:
                for item in read_items(path, kind):
                    self._one(kind, item, report)
            except ReadError as exc:
                report.error = str(exc)
                break
        if self.uploads is not None:
            reports["note_audio"] = self._note_audio()
        return reports

    def _note_audio(self) -> KindReport:
        """Recordings `<patient_id>_audio_<hex>.<ext>` in the uploads folder, stored as audio
        documents of the note that names them (its `audio_file`, or its audio_file_url)."""
        report = KindReport(file="uploads folder (note audio)")
        for path in sorted(self.uploads.glob("*_audio_*")):
            patient_id = path.name.split("_audio_")[0]
            note = (
                Note.objects.filter(patient_id=patient_id)
                .filter(Q(extra__audio_file=path.name) | Q(audio_file_url__endswith=path.name))
                .order_by("id")
                .first()
            )
            if note is None:
                problem = f"{path.name}: no note of {patient_id} refers to it"
                report.files["problems"].append({"document_id": "", "problem": problem})
                continue
            row = {
                "id": derived_id("DOC", "note_audio", path.name),
                "patient_id": patient_id,
                "note_id": note.pk,
                "status": Status.COMPLETED,
                "uploaded_at": note.created_at,
                "original_name": path.name,
            }
            row.update(self._file(row, path.name, report))
            outcome = self._upsert(Document, row)
            setattr(report, outcome, getattr(report, outcome) + 1)
        return report

    def _one(self, kind: str, item, report: KindReport) -> None:
        record = plain(item.record) if item.record is not None else None
        try:
            if item.error:
                raise Rejected(item.error)
            row = {"batches": batch, "documents": document, "timelines": timeline}[kind](record)
            self._check_patient(row["patient_id"])
            outcome = getattr(self, f"_write_{kind}")(row, report)
        except (Rejected, ValidationError) as exc:
            reason = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            report.rejected.append(
                {"position": item.position, "id": _raw_id(record), "reason": reason}
            )
            return
        setattr(report, outcome, getattr(report, outcome) + 1)

    def _check_patient(self, patient_id: str) -> None:
        if patient_id not in self.patients:
            if not Patient.objects.filter(pk=patient_id).exists():
                raise Rejected(f"patient {patient_id} is not in clinic (import patients first)")
            self.patients.add(patient_id)

    def _upsert(self, model, row: dict) -> str:
        fields = [k for k in row if k != "id"]
        existing = model.objects.filter(pk=row["id"]).values(*fields).first()
        if existing is not None and all(existing[k] == row[k] for k in fields):
            return "unchanged"
        if not self.dry_run:
            model.objects.update_or_create(pk=row["id"], defaults={k: row[k] for k in fields})
        return "created" if existing is None else "updated"

    def _write_batches(self, row: dict, report) -> str:
        self.batches.add(row["id"])
        row = {k: v for k, v in row.items() if v is not None or k == "completed_at"}
        return self._upsert(DocumentBatch, row)

    def _write_timelines(self, row: dict, report) -> str:
        return self._upsert(MedicalTimeline, {k: v for k, v in row.items() if v is not None})

    def _write_documents(self, row: dict, report) -> str:
        batch_id = row.pop("batch_id")
        if batch_id and (
            batch_id in self.batches or DocumentBatch.objects.filter(pk=batch_id).exists()
        ):
            row["batch_id"] = batch_id
        elif batch_id:
            row["extra"] = {**row["extra"], "batch_id": batch_id}
            row["batch_id"] = None
        legacy_file = row.pop("legacy_file")
        row.update(self._file(row, legacy_file, report))
        if row["uploaded_at"] is None:
            row.pop("uploaded_at")
        return self._upsert(Document, row)

    def _locate(self, row: dict, legacy_file: str) -> Path | None:
        if legacy_file and (self.uploads / legacy_file).is_file():
            return self.uploads / legacy_file
        matches = sorted(self.uploads.glob(f"{row['patient_id']}_{row['id']}.*"))
        return matches[0] if matches else None

    def _file(self, row: dict, legacy_file: str, report) -> dict:
        """The file's fields: copied into storage and checked; a problem is kept in `error`."""
        ext = legacy_file.rsplit(".", 1)[-1].lower() if "." in legacy_file else ""
        claimed = EXT_TYPES.get(ext)
        fields = {
            "kind": claimed.kind if claimed else "image",
            "content_type": claimed.content_type if claimed else "",
            "original_name": row["original_name"] or legacy_file,
            "error": "",
        }
        if self.uploads is None:
            return fields
        path = self._locate(row, legacy_file)
        if path is None:
            problem = f"{legacy_file or row['id']} is not in the uploads folder"
            report.files["problems"].append({"document_id": row["id"], "problem": problem})
            return {**fields, "error": f"File missing: {problem}."}
        with open(path, "rb") as handle:
            upload = File(handle, name=path.name)
            try:
                found = detect(upload)
            except FileRejected as exc:
                report.files["problems"].append(
                    {"document_id": row["id"], "problem": exc.messages[0]}
                )
                return {**fields, "error": f"File refused: {exc.messages[0]}"}
            fields.update(kind=found.kind, content_type=found.content_type, size=upload.size)
            fields["sha256"] = _sha256(path)
            stored = Document.objects.filter(pk=row["id"]).values_list("file", "sha256").first()
            storage = Document._meta.get_field("file").storage
            if stored and stored[1] == fields["sha256"] and stored[0] and storage.exists(stored[0]):
                report.files["present"] += 1
                fields["file"] = stored[0]
                return fields
            if self.dry_run:
                report.files["copied"] += 1
                return fields
            name = (
                f"documents/{row['patient_id']}/{row['patient_id']}_{row['id']}.{found.extension}"
            )
            if storage.exists(name):
                storage.delete(name)  # a changed file replaces the old copy under its name
            fields["file"] = storage.save(name, upload)
            report.files["copied"] += 1
            handle.seek(0)
            preview = render_thumbnail(handle.read(), found.kind)
        if preview:
            thumb = f"documents/{row['patient_id']}/thumbnails/{row['id']}.png"
            if storage.exists(thumb):
                storage.delete(thumb)
            fields["thumbnail"] = storage.save(thumb, ContentFile(preview))
        return fields


def _raw_id(record) -> str | None:
    if not isinstance(record, dict):
        return None
    for key in ("document_id", "batch_id", "_id"):
        if record.get(key):
            return str(record[key])
    return None


def import_summary(reports: dict[str, KindReport]) -> tuple[list[str], dict, int]:
    """Lines for the operator, the JSON report part, and the exit code (0, 1 rejected, 2 stop)."""
    lines, data, code = [], {}, 0
    for kind, r in reports.items():
        data[kind] = r.as_dict()
        files = r.files
        lines.append(
            f"{r.file}: {r.created} created, {r.updated} updated, {r.unchanged} unchanged, "
            f"{len(r.rejected)} rejected"
            + (
                f"; files {files['copied']} copied, {files['present']} already stored, "
                f"{len(files['problems'])} missing or refused"
                if kind in {"documents", "note_audio"}
                else ""
            )
        )
        lines += [f"  {x['position']} {x['id'] or ''}: {x['reason']}" for x in r.rejected]
        lines += [f"  {p['document_id']}: {p['problem']}" for p in files["problems"]]
        if r.error:
            lines.append(f"  Stopped: {r.error}")
            code = 2
        elif r.rejected or files["problems"]:
            code = max(code, 1)
    return lines, data, code
