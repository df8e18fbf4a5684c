"""Fingerprints of legacy records and imported rows, and the IDs a file has shown so far.

A legacy record's fingerprint is a hash of its canonical JSON (keys sorted, types kept: `1`,
`1.0`, `true` and `"1"` all differ), stored with the row it made: a re-import skips a record
whose fingerprint is unchanged without normalising it. A row's fingerprint is a hash of the
values it held when it was imported; compared with the row as it is now, it tells whether
clinic edited the row since.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import math
import sqlite3

import orjson

_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
# Seconds are enough to tell an edit, and MongoDB keeps only milliseconds of what it stores.
_ROW = _SORTED | orjson.OPT_OMIT_MICROSECONDS


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _plain_default(value):
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    return {"$repr": repr(value)}


def _stdlib(value) -> bytes:
    # What orjson cannot write: integers beyond 64 bits, decimals, NaN and infinities.
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain_default
    )
    return text.encode()


def _nonfinite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_nonfinite(v) for v in value)
    return False


def canonical(value) -> bytes:
    """Canonical JSON bytes of a parsed legacy value (raises RecursionError if absurdly deep)."""
    try:
        data = orjson.dumps(value, option=_SORTED)
    except TypeError:
        return _stdlib(value)
    # orjson writes NaN and infinities as null: look again only when a null is there.
    if b"null" in data and _nonfinite(value):
        return _stdlib(value)
    return data


def legacy_fingerprint(record) -> str:
    return _digest(canonical(record))


def row_fingerprint(values: list) -> str:
    """Fingerprint of a row's values (Python values, in the kind's field order)."""
    try:
        data = orjson.dumps(values, option=_ROW)
    except TypeError:
        data = json.dumps(values, sort_keys=True, default=str).encode()
    return _digest(data)


class SeenIds:
    """The IDs one file has shown so far, with the fingerprint of their first copy.

    Kept in SQLite's private temporary database (a file in the system's temporary directory
    that SQLite deletes itself, also when the process is killed), not in memory: a million IDs
    in a Python dict would take most of the import's memory budget.
    """

    def __init__(self):
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("PRAGMA journal_mode = MEMORY")  # ROLLBACK must work
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, fp TEXT) WITHOUT ROWID")

    def first_copies(self, pairs: list[tuple[str, str]]) -> dict[str, str]:
        """Remember `(id, fingerprint)` pairs (unique ids); returns `{id: fingerprint of its
        first copy}` for those seen before, which keep their first fingerprint."""
        self.db.execute("BEGIN")
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs)
        if self.db.total_changes - before == len(pairs):
            self.db.execute("COMMIT")  # the usual case: all new
            return {}
        self.db.execute("ROLLBACK")
        found: dict[str, str] = {}
        ids = [pk for pk, _ in pairs]
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT id, fp FROM seen WHERE id IN ({marks})", chunk))
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs)
        self.db.execute("COMMIT")
        return found

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SeenIds:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
