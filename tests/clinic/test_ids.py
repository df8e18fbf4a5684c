import datetime as dt
import json

from clinic import ids
from clinic.ids import derived_id


def test_a_derived_id_never_changes_for_the_same_content():
    # Pinned: databases hold IDs derived this way, and re-imports must find them again.
    parts = ("PAT_1", 3, {"b": 1, "a": "é", "when": dt.date(2024, 1, 2)})
    assert derived_id("NOTE", *parts) == "NOTE_4768B0C95A0AC31A"
    assert derived_id("NOTE", *parts) == derived_id(
        "NOTE", "PAT_1", 3, dict(reversed(parts[2].items()))
    )


def test_the_canonical_text_is_json_dumps_with_sorted_keys():
    # The fast encoder must write exactly what json.dumps does, for every JSON value and more.
    parts = (
        "HIST",
        "PAT_9",
        {
            "z": [1, 2.5, -0.0, 1e16, 10**30, True, None, 'ü\\n"', {"y": [], "x": {}}],
            "a": {"nested": {"b": 1, "a": 2}},
            "when": dt.datetime(2024, 1, 2, 3, 4, 5),
        },
    )
    expected = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    assert ids._canonical(parts) == expected
