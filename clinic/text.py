"""Text every input must pass, and a scrub that keeps a stored bad value from breaking a page.

A lone UTF-16 surrogate (legal in JSON as `"\\udfff"`) cannot be encoded as UTF-8, so a page or
API answer holding one fails as a whole; NUL is refused by most databases' text types and by
XML (the COSD export). Both are refused at every input: the API's parsers, the request
middleware (forms, query strings) and the legacy import, which calls `check_text`.
"""

import re
from datetime import date, datetime

from django.core.exceptions import ValidationError

# A documented nesting limit for JSON bodies and JSON form fields (docs/api.md).
MAX_JSON_DEPTH = 32
# Dates a record may carry: wide enough for any history, narrow enough that converting a local
# time to UTC (or adding a day to an end date) never overflows Python's datetime.
DATE_MIN = date(1800, 1, 1)
DATE_MAX = date(2999, 12, 31)

BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# In JSON text inside a form field: a NUL escape, or a surrogate escape that is not half of a pair.
BAD_ESCAPES = re.compile(
    r"\\u0000"
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
BAD_TEXT = "Text may not contain NUL characters or unpaired UTF-16 surrogates."
TOO_DEEP = f"JSON may be nested at most {MAX_JSON_DEPTH} levels deep."
DATE_RANGE = f"Dates must lie between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."


def has_bad_text(value: str) -> bool:
    return BAD_CHARACTERS.search(value) is not None


def find_bad_value(value, *, max_depth: int = MAX_JSON_DEPTH, _depth: int = 0) -> str | None:
    """The first problem in a decoded JSON value (text in keys or values, or nesting), or None."""
    if isinstance(value, str):
        return BAD_TEXT if has_bad_text(value) else None
    if isinstance(value, (dict, list)):
        if _depth >= max_depth:
            return TOO_DEEP
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and has_bad_text(key):
                return BAD_TEXT
            problem = find_bad_value(item, max_depth=max_depth, _depth=_depth + 1)
            if problem:
                return problem
    return None


def check_text(value, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ValidationError if a string or decoded JSON value holds text no record may keep."""
    problem = find_bad_value(value, max_depth=max_depth)
    if problem:
        raise ValidationError(problem, code="invalid_text")


def json_text_problem(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """The problem in JSON *source text* (a form field), without decoding it."""
    if BAD_ESCAPES.search(text):
        return BAD_TEXT
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and _nesting(stripped) > max_depth:
        return TOO_DEEP
    return None


def _nesting(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}]":
            depth -= 1
    return deepest


def check_date(value: date | datetime | None) -> None:
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(DATE_RANGE, code="date_range")


def scrub(text: str) -> str:
    """Replace what cannot be shown (lone surrogates; NUL) with U+FFFD, for output only."""
    return BAD_CHARACTERS.sub("\ufffd", text) if BAD_CHARACTERS.search(text) else text
