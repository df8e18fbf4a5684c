import datetime as dt

from clinic.ids import derived_id


def test_a_derived_id_never_changes_for_the_same_content():
    # Pinned: databases hold IDs derived this way, and re-imports must find them again.
    parts = ("PAT_1", 3, {"b": 1, "a": "é", "when": dt.date(2024, 1, 2)})
    assert derived_id("NOTE", *parts) == "NOTE_4768B0C95A0AC31A"
    assert derived_id("NOTE", *parts) == derived_id(
        "NOTE", "PAT_1", 3, dict(reversed(parts[2].items()))
    )
