"""Writes to patients, notes and history; each returns the saved record."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import timezone

from clinic import ids
from clinic.db import atomic, create_with_new_id
from patients import phones
from patients.models import (
    Allergy,
    HistoryEntry,
    Note,
    NoteAmendment,
    Patient,
    PatientSearchTerm,
    age_on,
)
from patients.search_terms import term_rows

SEARCHED_FIELDS = {"name", "uhid", "nhs_number", "phone"}


class LikelyDuplicate(Exception):
    """A new registration looks like patients already registered; `candidates` lists them."""

    def __init__(self, candidates: list[Patient]):
        super().__init__(f"{len(candidates)} registered patients look like this one")
        self.candidates = candidates


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


def birth_from_age(age: int, today: date | None = None) -> date:
    """The date of birth an age stands for: today's date that many years ago."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - age)
    except ValueError:  # 29 February
        return today.replace(year=today.year - age, day=28)


def birth_fields(*, date_of_birth: date | None, age: int | None, estimated: bool) -> dict:
    """Date of birth (or one estimated from an age) and the age it gives today."""
    if date_of_birth is not None:
        return {
            "date_of_birth": date_of_birth,
            "date_of_birth_estimated": estimated,
            "age": age_on(date_of_birth, timezone.localdate()),
        }
    if age is not None:
        return {"date_of_birth": birth_from_age(age), "date_of_birth_estimated": True, "age": age}
    return {"date_of_birth": None, "date_of_birth_estimated": False, "age": None}


def _phone(value: str) -> str:
    try:
        return phones.normalise(value)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None


def patient_search_reindex(*, patient_ids) -> int:
    """Bring these patients' search terms up to date; returns how many terms changed.

    Row IDs are `<patient>:<term>`, so only the difference is written and a re-run (after a crash
    or beside another desk's edit) converges; no transaction of its own, so it also runs inside
    the admin's (which MongoDB could not nest)."""
    patient_ids = list(patient_ids)
    fields = ["id", "name", "uhid", "nhs_number", "phone"]
    for attempt in range(3):
        patients = Patient.objects.filter(pk__in=patient_ids).values_list(*fields)
        wanted = {row["id"]: row for row in term_rows(patients)}
        stored = set(
            PatientSearchTerm.objects.filter(patient_id__in=patient_ids).values_list(
                "pk", flat=True
            )
        )
        stale, missing = stored - wanted.keys(), wanted.keys() - stored
        PatientSearchTerm.objects.filter(pk__in=stale).delete()
        try:
            PatientSearchTerm.objects.bulk_create(
                [PatientSearchTerm(**wanted[key]) for key in missing]
            )
        except IntegrityError:  # another edit wrote some of these terms first: look again
            if attempt == 2:
                raise
            continue
        return len(stale) + len(missing)
    raise AssertionError("unreachable")


def patient_create(
    *,
    name: str,
    uhid: str | None = None,
    age: int | None = None,
    date_of_birth: date | None = None,
    date_of_birth_estimated: bool = False,
    gender: str = "",
    phone: str = "",
    nhs_number: str | None = None,
    confirm_new: bool = False,
) -> Patient:
    """Register a patient; raises LikelyDuplicate unless `confirm_new` when others look alike."""
    from patients.duplicates import patient_duplicates

    now = timezone.now()
    fields = {
        "name": name.strip(),
        "uhid": uhid or None,
        "gender": gender,
        "phone": _phone(phone),
        "nhs_number": nhs_number or None,
        **birth_fields(date_of_birth=date_of_birth, age=age, estimated=date_of_birth_estimated),
    }
    if not confirm_new:
        candidates = patient_duplicates(**fields)
        if candidates:
            raise LikelyDuplicate(candidates)
    patient = _create(Patient, ids.new_patient_id, **fields, created_at=now, updated_at=now)
    patient_search_reindex(patient_ids=[patient.pk])
    return patient


def patient_update(*, patient: Patient, **changes: Any) -> Patient:
    for key in ("uhid", "nhs_number"):
        if key in changes:
            changes[key] = changes[key] or None  # blank IDs must not collide on unique
    if "phone" in changes:
        changes["phone"] = _phone(changes["phone"])
    if "date_of_birth" in changes or "age" in changes:
        age = changes.pop("age", None)
        if "date_of_birth" not in changes and age == patient.current_age:
            pass  # the age the record already gives: keep its (maybe exact) date of birth
        else:
            dob = changes.pop("date_of_birth", None)
            estimated = changes.pop("date_of_birth_estimated", False) if dob else True
            changes.update(birth_fields(date_of_birth=dob, age=age, estimated=estimated))
    patient = _apply(patient, changes, "updated_at")
    if SEARCHED_FIELDS & changes.keys():
        patient_search_reindex(patient_ids=[patient.pk])
    return patient


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
