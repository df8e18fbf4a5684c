"""Write the database back in the legacy formats, streaming, with `extra` fields restored.

Shapes written: patients.json an object map `{patient_id: patient}` (each object also carries
`patient_id`), queue.json and history.json arrays, notes.json a map `{patient_id: [notes]}`,
episodes.json Extended JSON lines (relaxed, as `mongoexport` writes), or one array
(`--episodes-array`, as `mongoexport --jsonArray`); either loads with pymongo's `json_util`.
Timestamps are ISO 8601 in UTC with `Z`; unknown values are `null`. An episode's values keep
the Extended JSON type they were imported with (legacy/surgdb.py). Importing the export
changes nothing.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Iterable, Iterator

from bson import Int64, ObjectId, json_util

from legacy import split, surgdb
from legacy.embedded import SPECS
from oncology.models import Episode
from patients.models import HistoryEntry, Note, Patient
from queue_app.models import QueueEntry

_CHUNK = 2000


def iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _rows(model, fields: list[str], order: list[str]) -> Iterator[dict]:
    return model.objects.order_by(*order).values(*fields).iterator(chunk_size=_CHUNK)


def _with_extra(record: dict, extra: dict | None) -> dict:
    for key, value in (extra or {}).items():
        record.setdefault(key, value)
    return record


def patients() -> Iterator[tuple[str, dict]]:
    fields = ["id", "uhid", "name", "age", "gender", "phone", "created_at", "updated_at", "extra"]
    for row in _rows(Patient, fields, ["id"]):
        record = {
            "patient_id": row["id"], "uhid": row["uhid"], "name": row["name"], "age": row["age"],
            "gender": row["gender"] or None, "phone": row["phone"],
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
        }  # fmt: skip
        yield row["id"], _with_extra(record, row["extra"])


QUEUE_TIMES = ["started_at", "nurse_completed_at", "timeline_ready_at", "completed_at"]


def queue() -> Iterator[dict]:
    fields = ["id", "patient_id", "patient_name", "token_number", "priority", "status",
              "added_at", *QUEUE_TIMES, "extra"]  # fmt: skip
    for row in _rows(QueueEntry, fields, ["added_at", "id"]):
        record = {
            "queue_id": row["id"], "patient_id": row["patient_id"],
            "patient_name": row["patient_name"], "token_number": row["token_number"],
            "priority": row["priority"], "status": row["status"], "added_at": iso(row["added_at"]),
        }  # fmt: skip
        record.update({name: iso(row[name]) for name in QUEUE_TIMES})
        yield _with_extra(record, row["extra"])


def notes() -> Iterator[tuple[str, dict]]:
    fields = ["id", "patient_id", "type", "content", "audio_file_url", "transcript", "language",
              "created_by", "created_at", "updated_at", "extra"]  # fmt: skip
    for row in _rows(Note, fields, ["patient_id", "created_at", "id"]):
        record = {
            "note_id": row["id"], "type": row["type"], "content": row["content"],
            "audio_file_url": row["audio_file_url"] or None,
            "transcript": row["transcript"] or None, "language": row["language"] or None,
            "created_by": row["created_by"],
            "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
        }  # fmt: skip
        yield row["patient_id"], _with_extra(record, row["extra"])


def history() -> Iterator[dict]:
    fields = ["id", "patient_id", "type", "date", "content", "source", "document_id",
              "batch_id", "created_at", "updated_at", "extra"]  # fmt: skip
    for row in _rows(HistoryEntry, fields, ["patient_id", "date", "id"]):
        record = {
            "history_id": row["id"], "patient_id": row["patient_id"], "type": row["type"],
            "date": iso(row["date"]), "content": row["content"], "source": row["source"] or None,
            "document_id": row["document_id"] or None, "batch_id": row["batch_id"] or None,
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
        }  # fmt: skip
        yield _with_extra(record, row["extra"])


EPISODE_FIELDS = [
    "id", "patient_id", "mrn", "nhs_number", "legacy_episode_id", "condition_type",
    "cancer_type", "referral_date", "first_seen_date", "mdt_discussion_date", "lead_clinician",
    "episode_status", "created_at", "last_modified_at", "embedded_treatments",
    "embedded_tumours", "extra", "legacy_forms",
]  # fmt: skip


def episodes() -> Iterator[dict]:
    """Every episode as the oncology system wrote it, with its items whether still embedded
    or already split into records (records first, in their array order, as a reverse would)."""
    chunk = []
    for row in _rows(Episode, EPISODE_FIELDS, ["id"]):
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            yield from _episode_chunk(chunk)
            chunk = []
    if chunk:
        yield from _episode_chunk(chunk)


def _episode_chunk(rows: list[dict]) -> Iterator[dict]:
    split_items = split.items_by_episode([row["id"] for row in rows])
    for row in rows:
        arrays = {}
        for spec in SPECS:
            name = spec.array.removeprefix("embedded_")
            records = [_bson_types(item) for item in split_items[spec].get(row["id"], [])]
            arrays[name] = records + list(row[spec.array] or [])
        yield surgdb.episode_document(row, arrays)


def _bson_types(value):
    """Values a record's verbatim item held as BSON (MongoDB) as Extended JSON, exactly."""
    if isinstance(value, dict):
        return {k: _bson_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bson_types(v) for v in value]
    if type(value) is Int64:
        return {"$numberLong": str(int(value))}
    if isinstance(value, datetime.datetime | ObjectId):
        return json.loads(json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS))
    return value


_DECIMAL = re.compile(r'\{"\$numberDecimal": "(-?[0-9][0-9.eE+-]*)"\}')


def _dump(value) -> str:
    # A number kept exactly (legacy.values: `{"$numberDecimal": "1E+400"}`) is written as the
    # bare number it came as; Extended JSON lines keep the marker (`extended`).
    text = json.dumps(value, ensure_ascii=False)
    return _DECIMAL.sub(r"\1", text) if "$numberDecimal" in text else text


def _dump_extended(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_array(path: str, records: Iterable[dict]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        for record in records:
            out.write(("\n" if not count else ",\n") + _dump(record))
            count += 1
        out.write("\n]\n")
    return count


def write_map(path: str, pairs: Iterable[tuple[str, dict]], grouped: bool = False) -> int:
    """`{key: record}`, or with `grouped` `{key: [records]}` from pairs sorted by key."""
    count, current = 0, None
    with open(path, "w", encoding="utf-8") as out:
        out.write("{")
        for key, record in pairs:
            if not grouped:
                out.write(("\n" if not count else ",\n") + f"{_dump(key)}: {_dump(record)}")
            elif key != current:
                closing = "" if current is None else "\n],\n"
                out.write(f"{closing if count else chr(10)}{_dump(key)}: [\n{_dump(record)}")
                current = key
            else:
                out.write(",\n" + _dump(record))
            count += 1
        out.write(("\n]" if grouped and count else "") + "\n}\n")
    return count


def write_lines(path: str, records: Iterable[dict]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(_dump_extended(record) + "\n")
            count += 1
    return count


def export_all(
    directory: str, kinds: Iterable[str], *, episodes_array: bool = False
) -> dict[str, int]:
    """Write `<kind>.json` for each named kind (its `export` in `legacy.kinds`); counts.
    Episodes are JSON lines, as mongoexport writes them, or one array with `episodes_array`."""
    from legacy.kinds import BY_NAME  # the table refers to this module's writers

    os.makedirs(directory, exist_ok=True)
    counts = {}
    for name in kinds:
        path = os.path.join(directory, f"{name}.json")
        if name == "episodes" and episodes_array:
            counts[name] = write_array(path, episodes())
        else:
            counts[name] = BY_NAME[name].export(path)
    return counts
