"""Stream records out of legacy JSON files in every shape LEGACY_FORMATS.md lists.

Shapes: a JSON array; an object map (`{id: record}`, or for notes/history `{patient_id:
[records]}`); either of those wrapped as `{"patients": ...}`; JSON lines (one document per
line, as `mongoexport` writes). MongoDB Extended JSON (canonical or relaxed) is turned into
plain JSON values: `$oid` → hex string, `$date` → ISO 8601 UTC string, numbers → numbers.
A leading UTF-8 BOM is skipped; a UTF-16/32 file (BOM) is refused in words. Files are never
loaded whole.

Values (legacy/values.py): numbers are kept exactly (big integers, `1e400`), NaN/Infinity
survive, a record nested deeper than `values.MAX_DEPTH` or holding a malformed Extended JSON
value (`{"$numberLong": "x"}`) is one rejected record (`Item.error`), not a failed file.
Invalid UTF-8 rejects its line in a JSON-lines file; in a JSON document it stops the file at
the exact byte. Keys beside the wrapper (`{"exported_at": ..., "patients": [...]}`) before it
are reported to `on_warning` and otherwise ignored; keys after it are not read.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ijson

from legacy.values import MAX_DEPTH, BadValue, TooDeep, dumps_deep, number, settle

BOM = b"\xef\xbb\xbf"
# Records are small; a first line longer than this is one big document, not JSON lines.
_MAX_LINE = 1 << 20
_CHUNK = 1 << 16
_OTHER_ENCODINGS = [  # longest first: UTF-32 LE starts like UTF-16 LE
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
]  # fmt: skip
log = logging.getLogger(__name__)
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


class _Counting:
    """File wrapper that remembers which bytes ijson read last, to locate a parse error."""

    def __init__(self, handle, start: int):
        self.handle, self.consumed, self.last, self.last_start = handle, start, b"", start

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        if data:
            self.last, self.last_start = data, self.consumed
        self.consumed += len(data)
        return data


def _error_offset(path: str, src: _Counting, exc: Exception, start: int, size: int):
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "invalid bytes in UTF8" in text:
        offset = _bad_utf8_offset(path, start)
        if offset is not None:
            return offset, "not valid UTF-8 text (the file must be saved as UTF-8)"
    if "premature EOF" in text:
        return size, "the file ends in the middle of a JSON value (cut off?)"
    lines = text.split("\n")
    reason = lines[0].strip() or "not valid JSON"
    offset = src.last_start
    if len(lines) >= 3 and lines[2].endswith("^"):
        found = _caret_offset(src.last, lines[1], lines[2].index("^"), reason.startswith("parse"))
        if found is not None:
            offset += found
    return offset, f"not valid JSON ({reason})"


def _caret_offset(chunk: bytes, snippet: str, caret: int, parse: bool) -> int | None:
    """Where yajl's error snippet points in `chunk`: yajl prints the chunk's bytes from
    `offset - 30` (or from 0, then padded by `40 - offset` spaces; else by 10), shows line
    breaks as spaces, and `offset` is just past the token it could not take."""
    stripped = snippet.lstrip(" ")
    if not stripped or caret != 40:
        return None
    lead = len(snippet) - len(stripped)
    pattern = re.escape(stripped.encode()).replace(b"\\ ", b"\\s")
    for match in re.finditer(pattern, chunk):
        for spaces in range(lead + 1):  # the text itself may start with blanks
            begin = match.start() - spaces
            if begin < 0 or (spaces and chunk[begin] not in b" \t\r\n"):
                break
            pad = lead - spaces
            offset = begin + 30 if pad == 10 else 40 - pad if begin == 0 and pad > 10 else None
            if offset is not None and offset <= len(chunk):
                # A lexical error stops on its byte; a parse error just inside the token.
                return _token_start(chunk, offset) if parse else max(offset - 1, 0)
    return None


_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_")


def _token_start(chunk: bytes, end: int) -> int:
    """The first byte of the token yajl stopped in (it reads a little into the next one)."""
    i = max(end - 1, 0)
    if chunk[i : i + 1] == b'"' and i:  # a whole string: back to its opening quote
        i -= 1
        while i > 0 and (chunk[i] != 0x22 or chunk[i - 1] == 0x5C):
            i -= 1
        return i
    if i < len(chunk) and chunk[i] in _WORD:
        while i > 0 and chunk[i - 1] in _WORD:
            i -= 1
        if i > 0 and chunk[i - 1] == 0x22:  # the start of a string
            i -= 1
    return i


def _bad_utf8_offset(path: str, start: int) -> int | None:
    """The byte offset of the first invalid UTF-8 sequence in the file, scanning from `start`."""
    with open(path, "rb") as handle:
        handle.seek(start)
        base, carry = start, b""
        while block := handle.read(1 << 20):
            data = carry + block
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.end == len(data) and exc.reason == "unexpected end of data":
                    carry = data[exc.start :]  # a character split by the block edge
                    base += exc.start
                    continue
                return base + exc.start
            base += len(data)
        return base if carry else None


def _first_byte(path: str, handle) -> tuple[int, bytes]:
    head = handle.read(4)
    for bom, name in _OTHER_ENCODINGS:
        if head.startswith(bom):
            raise ReadError(
                path, 0, f"the file is {name} text; save it as UTF-8 (or export it again) first"
            )
    start = 3 if head.startswith(BOM) else 0
    handle.seek(start)
    while True:
        ch = handle.read(1)
        if not ch or not ch.isspace():
            return start, ch
        start += 1


Warn = Callable[[str], None]


def read_items(path: str, kind: str, on_warning: Warn | None = None) -> Iterator[Item]:
    """Yield every record of `path` as an `Item`; raise `ReadError` if the file is not JSON.

    `on_warning(message)` hears what was read but is no record (keys beside the wrapper);
    by default it is logged."""
    warn = on_warning or (lambda message: log.warning("%s: %s", path, message))
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        start, first = _first_byte(path, handle)
        if not first:
            raise ReadError(path, start, "the file is empty")
        if first not in b"[{":
            raise ReadError(path, start, "not JSON: a legacy file starts with [ or {")
        handle.seek(start)
        if first == b"{" and _looks_like_lines(handle):
            handle.seek(start)
            yield from _settled(_read_lines(handle, start), kind)
            return
        handle.seek(start)
        yield from _settled(_read_document(path, handle, start, size, kind, warn), kind)


def _looks_like_lines(handle) -> bool:
    line = handle.readline(_MAX_LINE)
    if not line.endswith(b"\n"):
        return False
    try:
        doc = json.loads(line.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return False
    rest = handle.read(4096).lstrip()
    if not isinstance(doc, dict):
        return False
    if rest:
        return rest.startswith(b"{")
    # One line, one object: a record (JSON lines) unless it maps keys to records.
    return not all(isinstance(value, dict | list) for value in doc.values())


def _read_lines(handle, start: int) -> Iterator[Item]:
    for number_, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        position = f"line {number_}"
        try:
            record = json.loads(line, parse_float=number)
        except UnicodeDecodeError as exc:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            reason = f"line is not valid UTF-8 text (byte {exc.start + 1} of the line)"
            yield Item(position, error=reason, raw=text)
            continue
        except RecursionError:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            yield Item(position, error=f"the record is nested deeper than {MAX_DEPTH} levels",
                       raw=text)  # fmt: skip
            continue
        except ValueError as exc:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            reason = f"line is not valid JSON ({getattr(exc, 'msg', exc)})"
            yield Item(position, error=reason, raw=text)
            continue
        yield Item(position, record)


def _shape(handle, kind: str, warn: Warn) -> tuple[str, str]:
    """(prefix, "array" | "map") of the records inside the document."""
    events = ijson.parse(handle, use_float=True)
    _, event, _ = next(events)
    if event == "start_array":
        return "", "array"
    siblings = []
    for _prefix, event, value in events:
        if event != "map_key":
            return "", "map"
        _, inner, scalar = next(events)
        if value in WRAPPER_KEYS and inner in {"start_array", "start_map"}:
            if siblings:
                warn(
                    f"ignored the keys beside {value!r} (not records): "
                    + ", ".join(f"{k}={v!r}" for k, v in siblings)
                )
            return value, "array" if inner == "start_array" else "map"
        if inner in {"start_array", "start_map"}:
            return "", "map"
        siblings.append((value, scalar))
    return "", "map"


def _read_document(path, handle, start, size, kind, warn) -> Iterator[Item]:
    src = _Counting(handle, start)
    try:
        prefix, shape = _shape(src, kind, warn)
        handle.seek(start)
        src = _Counting(handle, start)
        if shape == "array":
            item_prefix = f"{prefix}.item" if prefix else "item"
            for index, record in enumerate(ijson.items(src, item_prefix, use_float=False)):
                yield Item(f"item {index}", record)
        else:
            yield from _map_items(ijson.kvitems(src, prefix, use_float=False), kind, warn)
    except (ijson.JSONError, StopIteration, UnicodeDecodeError) as exc:
        offset, reason = _error_offset(path, src, exc, start, size)
        raise ReadError(path, offset, reason) from exc


def _map_items(pairs, kind: str, warn: Warn) -> Iterator[Item]:
    for key, value in pairs:
        if kind in {"notes", "history"} and isinstance(value, list):
            for index, record in enumerate(value):
                yield Item(f"{key}[{index}]", record, key=key)
        elif isinstance(value, dict | list):
            yield Item(f"key {key}", value, key=key)
        else:  # `"exported_at": "..."` beside the records: not a record
            warn(f"ignored the key {key!r} = {value!r}: not a record")


def _settled(items: Iterator[Item], kind: str) -> Iterator[Item]:
    # Exports are Extended JSON throughout or not at all: the first record decides.
    extended = None if kind != "episodes" else True
    for item in items:
        record = item.record
        if record is not None:
            if extended is None:
                extended = _has_extended(record)
            try:
                settled = settle(record, extended)
            except TooDeep as exc:  # written to the rejects file as text: it cannot travel
                item.error, item.raw, item.record = str(exc), dumps_deep(record), None
            except BadValue as exc:
                item.error = str(exc)
            else:
                if settled is not record:
                    item.original, item.record = record, settled
        yield item


def _has_extended(record) -> bool:
    return isinstance(record, dict) and any(
        isinstance(v, dict) and any(str(k).startswith("$") for k in v) for v in record.values()
    )


def plain(value):
    """Extended JSON (canonical or relaxed) → plain JSON: ObjectId hex, ISO UTC date strings."""
    return settle(value, extended=True)
