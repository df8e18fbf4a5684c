"""Legacy JSON values as clinic keeps them: nesting limit, exact numbers, Extended JSON.

A record is read with its numbers exact: integers of any size stay Python ints, a number a
float holds exactly (shortest repr, the usual case) becomes a float, any other number (`1e400`,
`1.00000000000000000001`) a `Decimal`. NaN and ±Infinity (JSON lines, `$numberDouble`) are
floats. The database's JSON columns cannot hold all of these on every backend (orjson writes NaN
as null, BSON has no integers over 64 bits), so inside JSON fields they are stored as markers in
MongoDB Extended JSON's own spelling:

- `{"$numberDouble": "NaN" | "Infinity" | "-Infinity"}` for the non-finite floats;
- `{"$numberDecimal": "<digits>"}` for an integer outside 64 bits or a number a float cannot
  hold (its decimal text, e.g. `1E+400`).

`export_json` writes `$numberDecimal` markers back as the bare number (plain JSON files) and
keeps `$numberDouble` as it is (plain JSON has no NaN), so an export re-imports to the same rows.
A record nested deeper than `MAX_DEPTH` levels is rejected (`TooDeep`), before anything recurses.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from decimal import Decimal, InvalidOperation

MAX_DEPTH = 64  # levels of objects/arrays in one record, the record itself being level 1
_INT64 = 1 << 63
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_EXT_INTS = {"$numberInt", "$numberLong"}


class BadValue(ValueError):
    """A value that cannot be read; the message is for a clinic administrator."""


class TooDeep(BadValue):
    def __init__(self):
        super().__init__(f"the record is nested deeper than {MAX_DEPTH} levels")


def number(text: str):
    """A JSON number's text → float when a float holds it exactly, else `Decimal`."""
    value = float(text)
    if math.isfinite(value) and (len(text) < 16 or Decimal(repr(value)) == Decimal(text)):
        if value or not re.search(r"[1-9]", re.split(r"[eE]", text)[0]):  # no underflow to 0
            return value
    return Decimal(text)


def _decimal(value: Decimal):
    as_float = float(value)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == value:
        return as_float
    return value


def json_safe(value):
    """A scalar as a JSON column keeps it on every backend (see the module docstring)."""
    kind = type(value)
    if kind is int:
        return value if -_INT64 <= value < _INT64 else {"$numberDecimal": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$numberDouble": _NON_FINITE[repr(value)]}
    if kind is Decimal:
        return {"$numberDecimal": str(value)}
    return value


def settle(record, extended: bool = False):
    """The record with Extended JSON made plain (if `extended`), numbers exact and JSON-safe
    below the top level. Raises `TooDeep` or `BadValue`; never changes `record` in place."""
    if type(record) is dict and not extended:  # the common flat record: nothing to do
        for value in record.values():
            if type(value) not in _FLAT:
                return _settle(record, 1, extended)
        return record
    return _settle(record, 1, extended)


_SCALARS = frozenset({str, bool, type(None)})
_FLAT = frozenset({str, bool, type(None), int, float})  # as they stay at the record's level


def _settle(value, depth: int, ext: bool):
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        if depth > MAX_DEPTH:
            raise TooDeep
        if ext and len(value) == 1:
            ((key, inner),) = value.items()
            if key.startswith("$"):
                converted = _extended(key, inner)
                if converted is not _NOT_EXTENDED:
                    return converted if depth <= 2 else json_safe(converted)
        out = None
        for key, item in value.items():
            if type(item) in _SCALARS:
                continue
            new = _settle(item, depth + 1, ext)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if kind is list:
        if depth > MAX_DEPTH:
            raise TooDeep
        out = None
        for index, item in enumerate(value):
            if type(item) in _SCALARS:
                continue
            new = _settle(item, depth + 1, ext)
            if new is not item:
                if out is None:
                    out = list(value)
                out[index] = new
        return value if out is None else out
    if kind is Decimal:
        value = _decimal(value)
    # The record's own fields stay as read (a big integer UHID is text to the normaliser);
    # inside a field's object or array, values become what a JSON column keeps.
    return value if depth <= 2 else json_safe(value)


_NOT_EXTENDED = object()


def _extended(key: str, inner):
    try:
        if key == "$oid":
            return inner
        if key == "$date":
            return _date(inner)
        if key in _EXT_INTS:
            if isinstance(inner, bool) or not isinstance(inner, str | int):
                raise ValueError
            return int(inner)
        if key == "$numberDouble":
            return float(inner) if isinstance(inner, str) else float(_decimal(Decimal(inner)))
        if key == "$numberDecimal":
            return _decimal(Decimal(inner))
    except BadValue:
        raise
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        raise BadValue(f"{key} holds {inner!r}, which is not a valid {key[1:]}") from None
    return _NOT_EXTENDED


def _date(inner) -> str:
    if isinstance(inner, dict):
        if set(inner) != {"$numberLong"}:
            raise ValueError
        inner = int(inner["$numberLong"])
    if isinstance(inner, bool):
        raise ValueError
    if isinstance(inner, int | float | Decimal):
        try:
            moment = datetime.datetime.fromtimestamp(float(inner) / 1000, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError):
            raise BadValue(f"$date {inner!r} is outside the dates clinic can store") from None
        return _iso_utc(moment)
    if not isinstance(inner, str):
        raise ValueError
    return inner


def _iso_utc(moment: datetime.datetime) -> str:
    text = moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
    return re.sub(r"\.000\+00:00$|\+00:00$", "Z", text)


def dumps_deep(value) -> str:
    """JSON text of any depth (json.dumps recurses), for writing a too-deep record verbatim."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            parts: list = [_Text("}")]
            for index, (key, inner) in enumerate(reversed(list(item.items()))):
                parts.append(inner)
                parts.append(_Text(json.dumps(str(key), ensure_ascii=False) + ":"))
                if index < len(item) - 1:
                    parts.append(_Text(","))
            stack.extend(parts)
        elif isinstance(item, list):
            out.append("[")
            parts = [_Text("]")]
            for index, inner in enumerate(reversed(item)):
                parts.append(inner)
                if index < len(item) - 1:
                    parts.append(_Text(","))
            stack.extend(parts)
        else:
            out.append(json.dumps(item, ensure_ascii=False, default=str))
    return "".join(out)


class _Text(str):
    """Already-written JSON punctuation on the `dumps_deep` stack."""
