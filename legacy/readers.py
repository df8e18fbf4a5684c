"""Stream records out of legacy JSON files in every shape LEGACY_FORMATS.md lists.

Shapes: a JSON array; an object map (`{id: record}`, or for notes/history `{patient_id:
[records]}`); either of those wrapped as `{"patients": ...}`; JSON lines (one document per
line, as `mongoexport` writes). MongoDB Extended JSON (canonical or relaxed) is turned into
plain JSON values: `$oid` → hex string, `$date` → ISO 8601 UTC string, numbers → numbers.
A leading UTF-8 BOM is skipped. Files are never loaded whole.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ijson

BOM = b"\xef\xbb\xbf"
# Records are small; a first line longer than this is one big document, not JSON lines.
_MAX_LINE = 1 << 20
_CHUNK = 1 << 16
WRAPPER_KEYS = {"patients", "queue", "notes", "history", "episodes"}


class ReadError(Exception):
    """The file cannot be read as JSON from `offset` on (not JSON at all, or cut off)."""

    def __init__(self, path: str, offset: int, reason: str):
        self.path, self.offset, self.reason = path, offset, reason
        super().__init__(f"{os.path.basename(path)}: {reason} at byte {offset}")


@dataclass(slots=True)
class Item:
    """One input record: where it was, the parsed record (or why it could not be read)."""

    position: str
    record: Any = None
    key: str | None = None  # the object map key, when the file is a map
    error: str | None = None
    raw: str | None = None  # the verbatim line, when it was not JSON
    original: Any = None  # the record as written, when Extended JSON was converted


class _Counting(io.RawIOBase):
    """File wrapper that remembers which bytes ijson read last, to locate a parse error."""

    def __init__(self, handle, start: int):
        self.handle, self.consumed, self.last, self.last_start = handle, start, b"", start

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        if data:
            self.last, self.last_start = data, self.consumed
        self.consumed += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _error_offset(src: _Counting, exc: Exception, size: int) -> tuple[int, str]:
    text = str(exc)
    if "premature EOF" in text:
        return size, "the file ends in the middle of a JSON value (cut off?)"
    lines = text.split("\n")
    offset = src.last_start
    if len(lines) >= 3 and "^" in lines[2]:
        snippet = lines[1].strip()
        # yajl's caret sits one column past the offending character.
        caret = lines[2].index("^") - (len(lines[1]) - len(lines[1].lstrip())) - 1
        found = src.last.find(snippet.encode())
        if snippet and found >= 0:
            offset += found + max(caret, 0)
    reason = lines[0].strip() or "not valid JSON"
    return offset, f"not valid JSON ({reason})"


def _first_byte(handle) -> tuple[int, bytes]:
    start = 3 if handle.read(3) == BOM else 0
    handle.seek(start)
    while True:
        ch = handle.read(1)
        if not ch or not ch.isspace():
            return start, ch
        start += 1


def read_items(path: str, kind: str) -> Iterator[Item]:
    """Yield every record of `path` as an `Item`; raise `ReadError` if the file is not JSON."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        start, first = _first_byte(handle)
        if not first:
            raise ReadError(path, start, "the file is empty")
        if first not in b"[{":
            raise ReadError(path, start, "not JSON: a legacy file starts with [ or {")
        handle.seek(start)
        if first == b"{" and _looks_like_lines(handle):
            handle.seek(start)
            yield from _plain(_read_lines(handle, start), kind)
            return
        handle.seek(start)
        yield from _plain(_read_document(path, handle, start, size, first, kind), kind)


def _looks_like_lines(handle) -> bool:
    line = handle.readline(_MAX_LINE)
    if not line.endswith(b"\n"):
        return False
    try:
        doc = json.loads(line)
    except ValueError:
        return False
    rest = handle.read(4096).lstrip()
    if not isinstance(doc, dict):
        return False
    if rest:
        return rest.startswith(b"{")
    # One line, one object: a record (JSON lines) unless it maps keys to records.
    return not all(isinstance(value, dict | list) for value in doc.values())


def _read_lines(handle, start: int) -> Iterator[Item]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            yield Item(f"line {number}", error=f"line is not valid JSON ({exc.msg})", raw=text)
            continue
        yield Item(f"line {number}", record)


def _shape(handle, kind: str) -> tuple[str, str]:
    """(prefix, "array" | "map") of the records inside the document."""
    events = ijson.parse(handle)
    _, event, _ = next(events)
    if event == "start_array":
        return "", "array"
    prefix, event, value = next(events)
    if event == "map_key" and value in WRAPPER_KEYS:
        _, inner, _ = next(events)
        if inner in {"start_array", "start_map"}:
            return value, "array" if inner == "start_array" else "map"
    return "", "map"


def _read_document(path, handle, start, size, first, kind) -> Iterator[Item]:
    src = _Counting(handle, start)
    try:
        prefix, shape = _shape(io.BufferedReader(src, _CHUNK), kind)
        handle.seek(start)
        src = _Counting(handle, start)
        stream = io.BufferedReader(src, _CHUNK)
        if shape == "array":
            item_prefix = f"{prefix}.item" if prefix else "item"
            for index, record in enumerate(ijson.items(stream, item_prefix, use_float=True)):
                yield Item(f"item {index}", record)
        else:
            yield from _map_items(ijson.kvitems(stream, prefix, use_float=True), kind)
    except (ijson.JSONError, StopIteration, UnicodeDecodeError) as exc:
        offset, reason = _error_offset(src, exc, size)
        raise ReadError(path, offset, reason) from exc


def _map_items(pairs, kind: str) -> Iterator[Item]:
    for key, value in pairs:
        if kind in {"notes", "history"} and isinstance(value, list):
            for index, record in enumerate(value):
                yield Item(f"{key}[{index}]", record, key=key)
        else:
            yield Item(f"key {key}", value, key=key)


def _plain(items: Iterator[Item], kind: str) -> Iterator[Item]:
    # Exports are Extended JSON throughout or not at all: the first record decides.
    extended = kind == "episodes"
    for item in items:
        if item.record is not None:
            extended = extended or _has_extended(item.record)
            if extended:
                item.original, item.record = item.record, plain(item.record)
            yield item
            break
        yield item
    if not extended:
        yield from items
        return
    for item in items:
        if item.record is not None:
            item.original, item.record = item.record, plain(item.record)
        yield item


def _has_extended(record) -> bool:
    return isinstance(record, dict) and any(
        isinstance(v, dict) and any(str(k).startswith("$") for k in v) for v in record.values()
    )


_EXT_NUMBERS = {"$numberInt": int, "$numberLong": int, "$numberDouble": float}


def plain(value):
    """Extended JSON (canonical or relaxed) → plain JSON: ObjectId hex, ISO UTC date strings."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$oid":
            return inner
        if key == "$date":
            return _ext_date(inner)
        if key in _EXT_NUMBERS:
            return _EXT_NUMBERS[key](inner)
        if key == "$numberDecimal":
            return float(inner)
    return {k: plain(v) for k, v in value.items()}


def _ext_date(inner) -> str:
    if isinstance(inner, dict):
        inner = int(inner.get("$numberLong"))
    if isinstance(inner, int | float):
        moment = datetime.datetime.fromtimestamp(inner / 1000, tz=datetime.UTC)
        return _iso_utc(moment)
    return inner


def _iso_utc(moment: datetime.datetime) -> str:
    text = moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
    return re.sub(r"\.000\+00:00$|\+00:00$", "Z", text)
