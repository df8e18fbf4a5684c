"""Pure mapping between a legacy embedded item (treatments[] / tumours[]) and a record's fields.

`item_to_row` keeps every field: typed columns where the value reads cleanly, the rest in
`extra`, and the item verbatim in `embedded_item`. `row_to_item` gives the verbatim item back
where the record still says the same thing, so split → reverse is exact, while edits made to
the record after the split win.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from functools import cache, cached_property, partial
from typing import Any

from bson import json_util
from django.db import models
from django.utils import dateparse, timezone

from clinic.ids import derived_id
from oncology.models import Treatment, Tumour

UTC = datetime.UTC
# Fields that describe where a record sits, not what the legacy item said.
_STRUCTURAL = {"id", "episode", "patient", "position", "legacy_id", "extra", "embedded_item"}
_BSON_KEY = "$extended_json"  # marks an item that held BSON-only values (dates, ObjectIds)


class ItemError(ValueError):
    """An embedded item that cannot become a record; its episode is left as it was."""


# surg-db backend/app/models/treatment.py TreatmentType and TreatmentIntent.
ONCOLOGY_TREATMENT_TYPES = frozenset(
    {"surgery_primary", "surgery_rtt", "surgery_reversal", "palliative", "surveillance"}
)
ONCOLOGY_INTENTS = frozenset({"adjuvant", "neoadjuvant", "prophylactic"})


@dataclass(frozen=True, eq=False)  # hashed by identity: used as dict keys
class Spec:
    model: type[models.Model]
    array: str  # Episode attname holding the items
    id_key: str
    prefix: str
    type_key: str
    choices: dict[str, frozenset]

    @property
    def label(self) -> str:
        return self.model._meta.model_name

    @cached_property
    def readers(self) -> dict[str, tuple[str, Any]]:
        """Legacy key → (attname, parser), looked up once per item key on the hot path."""
        return {key: (f.attname, _parser(f)) for key, f in typed_fields(self.model).items()}

    @cached_property
    def blank_row(self) -> dict:
        return {f.attname: _parse(f, None) for f in typed_fields(self.model).values()}


TREATMENT = Spec(
    Treatment,
    "embedded_treatments",
    "treatment_id",
    "TRT",
    "treatment_type",
    {
        # The oncology system's own types and intents are known values, not surprises.
        "treatment_type": frozenset(Treatment.Type.values) | ONCOLOGY_TREATMENT_TYPES,
        "treatment_intent": frozenset(Treatment.Intent.values) | ONCOLOGY_INTENTS,
    },
)
TUMOUR = Spec(
    Tumour,
    "embedded_tumours",
    "tumour_id",
    "TUM",
    "tumour_type",
    {"tumour_type": frozenset(Tumour.Type.values)},
)
SPECS = (TREATMENT, TUMOUR)


@cache
def typed_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """Legacy key → model field, straight from `_meta` so the mapping cannot drift."""
    return {f.name: f for f in model._meta.concrete_fields if f.name not in _STRUCTURAL}


# --- reading one value ------------------------------------------------------------------------


def _unwrap_number(raw):
    if isinstance(raw, dict) and len(raw) == 1:
        key, value = next(iter(raw.items()))
        if key in {"$numberInt", "$numberLong", "$numberDouble", "$numberDecimal"}:
            return value
    return raw


def parse_datetime(raw) -> datetime.datetime:
    if type(raw) is str:
        try:  # the common case: ISO 8601 as the importer stores it
            value = datetime.datetime.fromisoformat(raw)
        except ValueError:
            value = _parse_datetime_text(raw.strip())
    elif isinstance(raw, datetime.datetime):  # a BSON date: pymongo gives naive UTC
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    elif isinstance(raw, dict) and list(raw) == ["$date"]:
        raw = _unwrap_number(raw["$date"])
        if isinstance(raw, int | str) and str(raw).lstrip("-").isdigit():
            return datetime.datetime.fromtimestamp(int(raw) / 1000, UTC)
        return parse_datetime(raw) if isinstance(raw, str) else _not_a_date()
    else:
        return _not_a_date()
    if value.tzinfo is None:  # LEGACY_FORMATS: no offset means clinic-local time
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.astimezone(UTC)  # the form the bulk writer stores without converting


def _not_a_date():
    raise ValueError("not a date")


def _parse_datetime_text(text: str) -> datetime.datetime:
    value = dateparse.parse_datetime(text)
    if value is None:
        day = dateparse.parse_date(text)
        if day is None:
            raise ValueError("not a date")
        value = datetime.datetime.combine(day, datetime.time())
    return value


def _parse(f: models.Field, raw):
    """The typed value for `raw`, or ValueError when it does not read as that type."""
    return _parser(f)(raw)


@cache
def _parser(f: models.Field):
    kind = f.get_internal_type()
    if kind == "CharField":
        return partial(_parse_text, f.max_length)
    if kind == "DateTimeField":
        return lambda raw: None if raw is None or raw == "" else parse_datetime(raw)
    if kind == "JSONField":
        return _parse_object
    if kind == "FloatField":
        return _parse_float
    return _parse_small_int


def _parse_text(max_length: int, raw):
    if type(raw) is not str:
        if raw is None:
            return ""
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("not text")
        raw = str(raw)
    if len(raw) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    return raw


def _parse_object(raw):
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    return raw


def _number(raw):
    raw = _unwrap_number(raw)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("not a number")
    return raw


def _parse_float(raw):
    raw = _number(raw)
    if raw is None:
        return None
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def _parse_small_int(raw):
    raw = _number(raw)
    if raw is None:
        return None
    value = float(raw) if isinstance(raw, str) else raw
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= 32767:
        raise ValueError("not a whole number from 0 to 32767")
    return int(value)


def _same(a, b) -> bool:
    if isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime):
        # BSON keeps milliseconds only; a date that went through MongoDB still counts as equal.
        return abs(a - b) < datetime.timedelta(milliseconds=1)
    return a == b


def _is_empty(value) -> bool:
    return value is None or value == "" or value == {}


def _dump(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


# --- verbatim copies that survive a JSON column -----------------------------------------------


def _json_safe(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def encode_verbatim(item: dict) -> dict:
    if _json_safe(item):
        return item
    return {_BSON_KEY: json_util.dumps(item, json_options=json_util.CANONICAL_JSON_OPTIONS)}


def decode_verbatim(stored: dict) -> dict:
    if list(stored) == [_BSON_KEY]:
        return json_util.loads(stored[_BSON_KEY])
    return stored


# --- items ↔ rows -----------------------------------------------------------------------------


def item_id(spec: Spec, item: dict, *, episode_id: str, position: int) -> tuple[str, bool]:
    """(record ID, derived?): the item's own ID, or one derived from its place and content."""
    raw = item.get(spec.id_key)
    if raw is None or raw == "":
        return derived_item_id(spec, episode_id, position, item), True
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ItemError(f"its {spec.id_key} {raw!r} is not text")
    value = str(raw)
    if len(value) > spec.model._meta.pk.max_length:
        raise ItemError(f"its {spec.id_key} is longer than {spec.model._meta.pk.max_length}")
    return value, False


def derived_item_id(spec: Spec, episode_id: str, position: int, item: dict) -> str:
    """`PREFIX_` + episode ID + position + a hash of the content, in upper-case hex.

    Led by the episode ID, so a split (which walks episodes in ID order) appends each batch's
    records to one end of the ID index instead of scattering them with a hash: at a million
    episodes, the scattered writes were most of the split's time.
    """
    hashed = derived_id(spec.prefix, episode_id, position, item)
    pk = f"{spec.prefix}_{episode_id.upper()}{position:04X}{hashed[-8:]}"
    if len(pk) > spec.model._meta.pk.max_length:  # a longer legacy episode ID
        return hashed
    return pk


def item_to_row(
    spec: Spec,
    item: Any,
    *,
    episode_id: str,
    patient_id: str,
    position: int,
    check_bson: bool = True,
) -> tuple[dict, list[tuple[str, str]]]:
    """(record fields, warnings as (kind, message)); ItemError when it cannot be a record.

    `check_bson=False` skips looking for BSON-only values (items that came out of a JSON column).
    """
    if not isinstance(item, dict):
        raise ItemError(f"it is {type(item).__name__}, not an object")
    pk, derived = item_id(spec, item, episode_id=episode_id, position=position)
    warnings = [("derived_id", f"no {spec.id_key}; derived {pk}")] if derived else []
    row = {
        "id": pk,
        "legacy_id": "",
        "episode_id": episode_id,
        "patient_id": patient_id,
        "position": position,
    }
    row.update(spec.blank_row)
    readers = spec.readers
    extra = {}
    for key, raw in item.items():
        reader = readers.get(key)
        if reader is None:
            if key != spec.id_key:
                extra[key] = raw
            continue
        try:
            value = reader[1](raw)
        except (ValueError, TypeError, OverflowError) as exc:
            extra[key] = raw
            warnings.append(("kept_in_extra", f"{key} {raw!r} ({exc}) kept in extra"))
            continue
        row[reader[0]] = value
        allowed = spec.choices.get(key)
        if allowed is not None and value and value not in allowed:
            warnings.append(("unknown_value", f"{key} {value!r} is not a known value; kept"))
    if not row[spec.type_key] and spec.type_key not in extra:
        warnings.append(("unknown_value", f"no {spec.type_key}; kept empty"))
    row["extra"] = extra
    row["embedded_item"] = encode_verbatim(item) if check_bson else item
    return row, warnings


def _fresh_item(spec: Spec, row: dict) -> dict:
    item = {spec.id_key: row.get("legacy_id") or row["id"]}
    for key, f in typed_fields(spec.model).items():
        if not _is_empty(row[f.attname]):
            item[key] = _dump(row[f.attname])
    item.update(row["extra"] or {})
    return item


def row_to_item(spec: Spec, row: dict) -> dict:
    """The embedded item for a record: verbatim where the record still says the same."""
    if row.get("embedded_item") is None:
        return _fresh_item(spec, row)
    verbatim = decode_verbatim(row["embedded_item"])
    readers = spec.readers
    extra = row["extra"] or {}
    out = {}
    for key, raw in verbatim.items():
        if key in extra:
            out[key] = extra[key]
            continue
        reader = readers.get(key)
        if reader is not None:
            current = row[reader[0]]
            try:
                unchanged = _same(reader[1](raw), current)
            except (ValueError, TypeError, OverflowError):
                unchanged = False
            if unchanged:
                out[key] = raw
            elif not _is_empty(current):
                out[key] = _dump(current)
        elif key == spec.id_key:
            own = {row["id"], row.get("legacy_id") or row["id"]}
            out[key] = raw if raw is None or raw == "" or str(raw) in own else row["id"]
    # Values set after the split, in fields the item did not have (a derived ID stays derived).
    for key, (attname, _) in readers.items():
        if key not in verbatim and not _is_empty(row[attname]):
            out[key] = _dump(row[attname])
    for key, value in extra.items():
        if key not in verbatim:
            out[key] = value
    return out
