"""Pure record normalisers: one legacy dict in, a clean row (bulk.upsert shape) or `Rejected` out.

Rules (LEGACY_FORMATS.md): timestamps become aware UTC datetimes (no offset = clinic-local
`TIME_ZONE`; a plain date = local midnight); null, missing and "" mean unknown; a number where
an ID or text is expected is read as its decimal string; gender codes become M/F/O; fields we
do not model go to `extra`. A timestamp missing from the file is left out of the row, so a
new record gets "now" and a re-import does not touch the stored value. A timestamp outside the
years MIN_YEAR..MAX_YEAR (`0001-01-01`, a placeholder) is a reject, as is an invalid one.

The OPD system's own shapes (LEGACY_FORMATS.md, "Real shapes"): a note's `soap_note` becomes a
SOAP note's content (the four boxes, chief_complaint, medications), its language the note's
language, `transcript` and `audio_file` the note's transcript and audio reference; a history
entry of type `comprehensive_timeline` (an AI summary of a document batch) keeps its summary
and counts in `content` and its batch in `batch_id`, and is dated by `created_at` when it has
no `date`; queue status `in_progress` reads as `in_consultation`.

A value read differently from how it is written is reported in the row's `_notes` (a list of
short strings), which the importer pops and counts; it is never a column.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError

from clinic.ids import derived_id
from legacy import surgdb
from legacy.readers import plain
from legacy.values import json_safe
from patients.models import validate_uhid


class Rejected(Exception):  # noqa: N818 - reads as an outcome: raise Rejected("why")
    """The record cannot be imported; the message is for a clinic administrator."""


GENDERS = {
    "m": "M", "male": "M", "f": "F", "female": "F", "o": "O", "other": "O",
}  # fmt: skip
QUEUE_STATUSES = {
    "waiting", "nurse_completed", "ready_for_doctor", "in_consultation", "completed", "cancelled",
}  # fmt: skip
PRIORITIES = {"normal", "urgent", "emergency"}
NOTE_TYPES = {"SOAP", "audio_transcription", "manual"}
TIMELINE = "comprehensive_timeline"
HISTORY_TYPES = {"prescription", "diagnosis", "visit", "lab_result", TIMELINE}
HISTORY_SOURCES = {"digitizer", "manual", "import"}
EPISODE_STATUSES = {"active", "completed", "cancelled"}
QUEUE_OLD_STATUSES = {"in_progress": "in_consultation"}
MIN_YEAR, MAX_YEAR = 1800, 2200
SOAP_KEYS = ("subjective", "objective", "assessment", "plan", "chief_complaint", "medications")
# A timeline summary's own fields → the key `content` keeps them under.
TIMELINE_CONTENT = {
    "timeline_summary": "summary", "document_count": "document_count",
    "event_count": "event_count", "current_medications_count": "current_medications_count",
}  # fmt: skip

PATIENT_FIELDS = {
    "patient_id",
    "uhid",
    "name",
    "age",
    "gender",
    "phone",
    "created_at",
    "updated_at",
}
QUEUE_TIMES = ("started_at", "nurse_completed_at", "timeline_ready_at", "completed_at")
QUEUE_FIELDS = {
    "queue_id", "patient_id", "patient_name", "token_number", "priority", "status", "added_at",
    *QUEUE_TIMES,
}  # fmt: skip
NOTE_FIELDS = {
    "note_id", "patient_id", "type", "content", "audio_file_url", "created_by", "created_at",
    "updated_at", "transcript", "language",
}  # fmt: skip
OPD_NOTE_FIELDS = {"soap_note"}
HISTORY_FIELDS = {
    "history_id", "patient_id", "type", "date", "content", "source", "document_id", "batch_id",
    "created_at", "updated_at",
}  # fmt: skip
EPISODE_DATES = ("referral_date", "first_seen_date", "mdt_discussion_date")
EPISODE_SCALARS = {
    "_id", "episode_id", "patient_id", "nhs_number", "condition_type", "cancer_type",
    "lead_clinician", "episode_status", "created_at", "last_modified_at", *EPISODE_DATES,
}  # fmt: skip
EPISODE_FIELDS = {
    "_id", "patient_id", "nhs_number", "condition_type", "cancer_type", "lead_clinician",
    "episode_status", "created_at", "last_modified_at", "treatments", "tumours", *EPISODE_DATES,
    "episode_id",
}  # fmt: skip


@cache
def local_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def timestamp(value, field: str) -> datetime.datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Rejected(f"{field} is not a date or time: {value!r}")
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"{field} is not a date or time: {value!r}") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise Rejected(
            f"{field} {value!r} is outside the years {MIN_YEAR}-{MAX_YEAR} (a placeholder date?)"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(datetime.UTC)


def text(value, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise Rejected(f"{field} should be text, not {value!r}")
        return _number_text(value)
    raise Rejected(f"{field} should be text, not {type(value).__name__}")


def identifier(value, field: str) -> str:
    ident = text(value, field).strip()
    if not ident:
        raise Rejected(f"the record has no {field}")
    return ident


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # 1E+13, as a number-typed UHID may be written
    return str(value)


def _int(value, field: str, low: int, high: int) -> int | None:
    if type(value) is int:  # the common case, without the float round trip
        number = value
    elif value is None or value == "":
        return None
    else:
        number = _whole(value, field)
    if not low <= number <= high:
        raise Rejected(f"{field} must be between {low} and {high}, not {number}")
    return number


def _whole(value, field: str) -> int:
    try:
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not float(number).is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError, OverflowError):
        raise Rejected(f"{field} is not a whole number: {value!r}") from None


def _choice(value, field: str, allowed: set[str], default: str) -> str:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise Rejected(f"{field} {value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def _extra(record: dict, known: set[str]) -> dict:
    if record.keys() <= known:  # most records have no extra fields: skip the copy
        return {}
    # Values inside objects and arrays are JSON-safe already (legacy.values.settle).
    return {k: json_safe(v) for k, v in record.items() if k not in known}


def _times(row: dict, record: dict, names) -> dict:
    for name in names:
        moment = timestamp(record.get(name), name)
        if moment is not None:
            row[name] = moment
    return row


def patient(record, key: str | None = None) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the patient is not a JSON object")
    if surgdb.is_oncology_patient(record):
        record = record if key is None else {**record, "patient_id": key}
        return surgdb.patient(record, rejected=Rejected, timestamp=timestamp)
    pk = identifier(key if key is not None else record.get("patient_id"), "patient_id")
    name = text(record.get("name"), "name")
    if not name.strip():
        raise Rejected("the patient has no name")
    uhid = text(record.get("uhid"), "uhid").strip() or None
    if uhid is not None:
        try:
            validate_uhid(uhid)
        except ValidationError:
            raise Rejected(f"the UHID {uhid!r} is not a hospital number we accept") from None
    gender = record.get("gender")
    if gender:
        gender = GENDERS.get(str(gender).strip().lower())
        if gender is None:
            raise Rejected(f"gender {record['gender']!r} is not M, F, O, male, female or other")
    row = {
        "id": pk,
        "uhid": uhid,
        "name": name,
        "age": _int(record.get("age"), "age", 0, 130),
        "gender": gender or "",
        "phone": text(record.get("phone"), "phone"),
        "extra": _extra(record, PATIENT_FIELDS),
    }
    return _times(row, record, ("created_at", "updated_at"))


def queue_entry(record, key: str | None = None) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the queue entry is not a JSON object")
    added_at = timestamp(record.get("added_at"), "added_at")
    if added_at is None:
        raise Rejected("the queue entry has no added_at time")
    token = _int(record.get("token_number"), "token_number", 1, 2**31 - 1)
    if token is None:
        raise Rejected("the queue entry has no token_number")
    status, notes = record.get("status"), []
    if status in QUEUE_OLD_STATUSES:
        status = QUEUE_OLD_STATUSES[status]
        notes.append(f"status {record['status']} read as {status}")
    if status not in QUEUE_STATUSES:
        raise Rejected(f"status {status!r} is not one of {', '.join(sorted(QUEUE_STATUSES))}")
    row = {
        "id": identifier(key if key is not None else record.get("queue_id"), "queue_id"),
        "patient_id": identifier(record.get("patient_id"), "patient_id"),
        "patient_name": text(record.get("patient_name"), "patient_name"),
        "token_number": token,
        "day": added_at.astimezone(local_zone()).date(),
        "priority": _choice(record.get("priority"), "priority", PRIORITIES, "normal"),
        "status": status,
        "added_at": added_at,
        "extra": _extra(record, QUEUE_FIELDS),
    }
    for name in QUEUE_TIMES:
        row[name] = timestamp(record.get(name), name)
    if notes:
        row["_notes"] = notes
    return row


def _derived(prefix: str, patient_id: str, record: dict, id_field: str) -> str:
    # Same record content → same ID on every import, whichever file shape carried it.
    content = {k: v for k, v in record.items() if k not in {id_field, "patient_id"}}
    return derived_id(prefix, patient_id, content)


def note(record, key: str | None = None) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the note is not a JSON object")
    patient_id = identifier(key if key is not None else record.get("patient_id"), "patient_id")
    content = record.get("content")
    language = text(record.get("language"), "language").strip()
    known = NOTE_FIELDS
    soap = record.get("soap_note")
    if isinstance(soap, dict) and content in (None, "", {}):
        # The OPD system's note: SOAP boxes plus chief complaint and medications.
        known = NOTE_FIELDS | OPD_NOTE_FIELDS
        content = {k: json_safe(v) for k, v in soap.items() if k != "language"}
        language = language or text(soap.get("language"), "soap_note.language").strip()
    audio = record.get("audio_file_url")
    if not audio and record.get("audio_file"):  # the OPD system's uploads-folder file name
        audio, known = record["audio_file"], known | {"audio_file"}
    if len(language) > 16:  # not a language code: kept with the note's content
        content = {**(content if isinstance(content, dict) else {}), "language": language}
        language = ""
    default_type = "SOAP" if isinstance(content, dict) else "manual"
    row = {
        "id": text(record.get("note_id"), "note_id").strip()
        or _derived("NOTE", patient_id, record, "note_id"),
        "patient_id": patient_id,
        "type": _choice(record.get("type"), "type", NOTE_TYPES, default_type),
        "content": {} if content is None else json_safe(content),
        "audio_file_url": text(audio, "audio_file_url"),
        "transcript": text(record.get("transcript"), "transcript"),
        "language": language,
        "created_by": text(record.get("created_by"), "created_by"),
        "updated_at": timestamp(record.get("updated_at"), "updated_at"),
        "extra": _extra(record, known),
    }
    return _times(row, record, ("created_at",))


def history_entry(record, key: str | None = None) -> dict:
    if not isinstance(record, dict):
        raise Rejected("the history entry is not a JSON object")
    patient_id = identifier(key if key is not None else record.get("patient_id"), "patient_id")
    kind = record.get("type")
    if kind not in HISTORY_TYPES:
        raise Rejected(f"type {kind!r} is not one of {', '.join(sorted(HISTORY_TYPES))}")
    content = record.get("content")
    content = {} if content is None else json_safe(content)
    created_at = timestamp(record.get("created_at"), "created_at")
    date = timestamp(record.get("date"), "date")
    known = HISTORY_FIELDS
    if kind == TIMELINE:
        # An AI summary of a document batch: its summary and counts are its content.
        known = HISTORY_FIELDS | TIMELINE_CONTENT.keys()
        summary = {to: json_safe(record[name]) for name, to in TIMELINE_CONTENT.items()
                   if name in record}  # fmt: skip
        if summary:
            content = {**content, **summary} if isinstance(content, dict) else {
                "content": content, **summary}  # fmt: skip
        date = date or created_at
    row = {
        "id": text(record.get("history_id"), "history_id").strip()
        or _derived("HIST", patient_id, record, "history_id"),
        "patient_id": patient_id,
        "type": kind,
        "date": date,
        "content": content,
        "source": _choice(record.get("source"), "source", HISTORY_SOURCES, ""),
        "document_id": text(record.get("document_id"), "document_id"),
        "batch_id": text(record.get("batch_id"), "batch_id"),
        # Unlike a note's, a history entry's created_at may be unknown (null), as it came.
        "created_at": created_at,
        "updated_at": timestamp(record.get("updated_at"), "updated_at"),
        "extra": _extra(record, known),
    }
    return row


def episode(record, key: str | None = None) -> dict:
    """Episode row without `patient_id` (the importer resolves the MRN); arrays as they came.

    `record` is the document as written (Extended JSON): typed columns read its plain values;
    the arrays and unknown fields keep their Extended JSON, and how each known field was
    written (or that it was absent) is remembered, so an export gives back every value with
    the type it came in and invents nothing.
    """
    if not isinstance(record, dict):
        raise Rejected("the episode is not a JSON object")
    # Only the known top-level fields are read as plain values; the arrays stay as written.
    written = record
    record = {k: plain(v) for k, v in written.items() if k in EPISODE_SCALARS}
    legacy_id = text(record.get("episode_id"), "episode_id").strip()
    raw_pk = record.get("_id", key)
    if (raw_pk is None or raw_pk == "") and legacy_id:
        raw_pk = legacy_id if len(legacy_id) <= 24 else derived_id("EP", legacy_id)[:24]
    pk = identifier(raw_pk, "_id")
    if len(pk) > 24:
        raise Rejected(f"the episode _id {pk!r} is longer than an ObjectId")
    raw_nhs = record.get("nhs_number")
    if surgdb.is_encrypted(raw_nhs):  # kept as written (legacy_forms) when it cannot be read
        raw_nhs = surgdb.decrypt(raw_nhs) or ""
    nhs = text(raw_nhs, "nhs_number").replace(" ", "")
    if nhs and not (nhs.isdigit() and len(nhs) == 10):
        raise Rejected(f"the NHS number must be 10 digits, not {nhs!r}")
    arrays = {}
    for name in ("treatments", "tumours"):
        value = written.get(name)
        if value is not None and not isinstance(value, list):
            raise Rejected(f"{name} should be a list")
        arrays[f"embedded_{name}"] = value or []
    row = {
        "id": pk,
        "mrn": identifier(record.get("patient_id"), "patient_id (MRN)"),
        "nhs_number": nhs,
        "legacy_episode_id": legacy_id,
        "condition_type": text(record.get("condition_type"), "condition_type") or "cancer",
        "cancer_type": text(record.get("cancer_type"), "cancer_type"),
        "lead_clinician": text(record.get("lead_clinician"), "lead_clinician"),
        "episode_status": _choice(
            record.get("episode_status"), "episode_status", EPISODE_STATUSES, "active"
        ),
        **arrays,
        "extra": _extra(written, EPISODE_FIELDS),
    }
    for name in EPISODE_DATES:
        row[name] = timestamp(record.get(name), name)
    _times(row, record, ("created_at", "last_modified_at"))
    return surgdb.remember_episode_forms(row, written)


NORMALISERS = {
    "patients": patient,
    "queue": queue_entry,
    "notes": note,
    "history": history_entry,
    "episodes": episode,
}
