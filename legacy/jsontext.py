"""JSON text on the bulk paths (import, split): orjson's speed, the standard library's reach.

orjson writes compact text (`{"a":1}`), the ORM spaced text (`{"a": 1}`); both read back as
the same value, and the bulk writer compares JSON columns by value when their text differs.
Reading stays with `json.loads`: orjson would turn integers over 64 bits into floats.
"""

import json

import orjson


def dumps(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # beyond orjson (integers over 64 bits, keys that are not text)
        return json.dumps(value)
