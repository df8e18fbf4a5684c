"""Writes to patients, notes and history; each returns the saved record."""

from datetime import datetime
from typing import Any

from django.utils import timezone

from clinic import ids
from clinic.db import create_with_new_id
from patients.models import HistoryEntry, Note, Patient


def _apply(instance, changes: dict[str, Any], stamp: str):
    for name, value in changes.items():
        setattr(instance, name, value)
    setattr(instance, stamp, timezone.now())
    instance.full_clean(validate_unique=False, validate_constraints=False)
    # update_fields keeps a concurrent edit of other fields from being overwritten.
    instance.save(update_fields=[*changes, stamp])
    return instance


def _create(model, make_id, **fields):
    model(**fields).full_clean(exclude=["id"], validate_unique=False, validate_constraints=False)
    return create_with_new_id(model, make_id, **fields)


def patient_create(
    *,
    name: str,
    uhid: str | None = None,
    age: int | None = None,
    gender: str = "",
    phone: str = "",
) -> Patient:
    now = timezone.now()
    return _create(
        Patient,
        ids.new_patient_id,
        name=name.strip(),
        uhid=uhid or None,
        age=age,
        gender=gender,
        phone=phone,
        created_at=now,
        updated_at=now,
    )


def patient_update(*, patient: Patient, **changes: Any) -> Patient:
    if "uhid" in changes:
        changes["uhid"] = changes["uhid"] or None  # blank UHIDs must not collide on unique
    return _apply(patient, changes, "updated_at")


def note_create(
    *,
    patient: Patient,
    type: str = Note.Type.SOAP,
    content: dict | str | None = None,
    audio_file_url: str = "",
    created_by: str = "",
    language: str = "",
    transcript: str = "",
) -> Note:
    return _create(
        Note,
        ids.new_note_id,
        patient=patient,
        type=type,
        content=content if content is not None else {},
        audio_file_url=audio_file_url,
        created_by=created_by,
        language=language,
        transcript=transcript,
        created_at=timezone.now(),
    )


def note_update(*, note: Note, **changes: Any) -> Note:
    return _apply(note, changes, "updated_at")


def history_create(
    *,
    patient: Patient,
    type: str,
    date: datetime | None = None,
    content: dict | None = None,
    source: str = HistoryEntry.Source.MANUAL,
    document_id: str = "",
    batch_id: str = "",
) -> HistoryEntry:
    return _create(
        HistoryEntry,
        ids.new_history_id,
        patient=patient,
        type=type,
        date=date,
        content=content if content is not None else {},
        source=source,
        document_id=document_id,
        batch_id=batch_id,
        created_at=timezone.now(),
    )


def history_update(*, entry: HistoryEntry, **changes: Any) -> HistoryEntry:
    return _apply(entry, changes, "updated_at")
