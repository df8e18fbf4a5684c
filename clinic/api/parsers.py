"""JSON bodies parsed once for every endpoint: size, nesting and text checked before any view.

A body over `API_MAX_JSON_BYTES` is a 413; deeper than `clinic.text.MAX_JSON_DEPTH`, or with
NUL / a lone surrogate in any key or value, a 400. Views and services never see such input.
"""

import json

from django.conf import settings
from rest_framework import exceptions, parsers, status

from clinic.text import TOO_DEEP, find_bad_value


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


def max_body_bytes() -> int:
    return settings.API_MAX_JSON_BYTES


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"A request body may be at most {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError:
            raise exceptions.ParseError(TOO_DEEP) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
        problem = find_bad_value(data)
        if problem:
            raise exceptions.ParseError(problem)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
