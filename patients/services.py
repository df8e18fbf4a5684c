"""Writes to patients, notes and history; each returns the saved record."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clinic import ids
from clinic.db import atomic, create_with_new_id
from patients.models import Allergy, HistoryEntry, Note, NoteAmendment, Patient

NOTE_AMENDABLE = ("type", "content", "transcript", "language", "audio_file_url")


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
) -> Note:
    return _create(
        Note,
        ids.new_note_id,
        patient=patient,
        type=type,
        content=content if content is not None else {},
        audio_file_url=audio_file_url,
        created_by=created_by,
        created_at=timezone.now(),
    )


def note_amend(*, note_id: str, changes: dict[str, Any], reason: str, by: str) -> Note:
    """Change a signed note. Author and time of writing stay; the content as it was, who changed
    it, when and why are kept as a NoteAmendment. Nothing changed: nothing is written."""
    unknown = set(changes) - set(NOTE_AMENDABLE)
    if unknown:
        raise ValidationError({name: "A note's author and time cannot change." for name in unknown})
    note = Note.objects.get(pk=note_id)
    changes = {k: v for k, v in changes.items() if getattr(note, k) != v}
    if not changes:
        return note
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you are changing this signed note."})
    amendment = {"note": note, "patient_id": note.patient_id, "reason": reason[:500],
                 "amended_by": by, "amended_at": timezone.now(), "previous_type": note.type,
                 "previous_content": note.content}  # fmt: skip
    if connection.in_atomic_block:
        # Inside the admin's own atomic block (the patient page's inlines): on SQL it already
        # makes both writes one; MongoDB forbids opening its transaction inside it.
        NoteAmendment(pk=ids.new_amendment_id(), **amendment).save(force_insert=True)
        _apply(note, changes, "updated_at")
        return note
    with atomic():
        create_with_new_id(NoteAmendment, ids.new_amendment_id, **amendment)
        _apply(note, changes, "updated_at")
    return note


def allergy_create(*, patient: Patient, substance: str, reaction: str = "",
                   severity: str = "", recorded_by: str = "") -> Allergy:  # fmt: skip
    return _create(
        Allergy,
        ids.new_allergy_id,
        patient=patient,
        substance=substance.strip(),
        reaction=reaction.strip(),
        severity=severity,
        recorded_by=recorded_by,
        recorded_at=timezone.now(),
    )


def allergy_update(*, allergy: Allergy, **changes: Any) -> Allergy:
    for name, value in changes.items():
        setattr(allergy, name, value)
    allergy.full_clean(validate_unique=False, validate_constraints=False)
    allergy.save(update_fields=list(changes) or None)
    return allergy


def history_create(
    *,
    patient: Patient,
    type: str,
    date: datetime | None = None,
    content: dict | None = None,
    source: str = HistoryEntry.Source.MANUAL,
    document_id: str = "",
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
        created_at=timezone.now(),
    )


def history_update(*, entry: HistoryEntry, **changes: Any) -> HistoryEntry:
    return _apply(entry, changes, "updated_at")
