import json

import pytest

from legacy.readers import ReadError, plain, read_items

PATIENT = {"patient_id": "PAT_1", "name": "Asha"}


def read(tmp_path, content, kind="patients", name=None):
    path = tmp_path / (name or f"{kind}.json")
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return list(read_items(str(path), kind))


@pytest.mark.parametrize(
    "content",
    [
        json.dumps([PATIENT]),
        json.dumps({"PAT_1": {"name": "Asha"}}),
        json.dumps({"patients": [PATIENT]}),
        json.dumps({"patients": {"PAT_1": {"name": "Asha"}}}),
        json.dumps(PATIENT) + "\n",
        "\n" + json.dumps(PATIENT) + "\n" + json.dumps(PATIENT | {"patient_id": "PAT_2"}) + "\n",
    ],
    ids=["array", "map", "wrapped-array", "wrapped-map", "one-line", "json-lines"],
)
def test_it_reads_every_top_level_shape(tmp_path, content):
    items = read(tmp_path, content)
    assert items[0].record["name"] == "Asha"
    assert (items[0].key or items[0].record["patient_id"]) == "PAT_1"


def test_a_map_key_is_reported_as_the_position_and_key(tmp_path):
    (item,) = read(tmp_path, json.dumps({"PAT_9": {"name": "Asha"}}))
    assert (item.position, item.key) == ("key PAT_9", "PAT_9")


def test_notes_maps_hold_arrays_per_patient(tmp_path):
    items = read(tmp_path, json.dumps({"PAT_1": [{"type": "manual"}, {"type": "SOAP"}]}), "notes")
    assert [(i.position, i.key) for i in items] == [("PAT_1[0]", "PAT_1"), ("PAT_1[1]", "PAT_1")]


def test_a_leading_bom_is_skipped(tmp_path):
    items = read(tmp_path, b"\xef\xbb\xbf" + json.dumps([PATIENT]).encode())
    assert items[0].record == PATIENT


def test_a_truncated_file_names_the_byte_offset_where_it_ends(tmp_path):
    content = json.dumps([PATIENT, PATIENT])[:-20]
    with pytest.raises(ReadError) as failure:
        read(tmp_path, content)
    assert failure.value.offset == len(content)
    assert "cut off" in str(failure.value)


def test_a_file_that_is_not_json_names_byte_zero(tmp_path):
    with pytest.raises(ReadError) as failure:
        read(tmp_path, "patient_id,name\nPAT_1,Asha\n")
    assert failure.value.offset == 0


def test_garbage_mid_file_is_located_to_the_byte(tmp_path):
    good = json.dumps([PATIENT, PATIENT])[:-1]
    with pytest.raises(ReadError) as failure:
        read(tmp_path, good + ", oops]")
    assert failure.value.offset == len(good) + 2


def test_a_bad_json_line_is_one_rejected_record_not_a_failed_file(tmp_path):
    content = json.dumps(PATIENT) + "\n{not json\n" + json.dumps(PATIENT) + "\n"
    items = read(tmp_path, content)
    assert [i.position for i in items] == ["line 1", "line 2", "line 3"]
    assert items[1].raw == "{not json" and "not valid JSON" in items[1].error


def test_extended_json_canonical_and_relaxed_become_plain_values(tmp_path):
    canonical = {
        "_id": {"$oid": "584cc78c3b38f01595c95f10"},
        "created_at": {"$date": {"$numberLong": "1734825600000"}},
        "cycles": {"$numberInt": "3"}, "dose": {"$numberDouble": "45.0"},
        "treatments": [{"treatment_date": {"$date": "2024-04-06T13:07:34Z"}}],
    }  # fmt: skip
    items = read(tmp_path, json.dumps(canonical) + "\n" + json.dumps(canonical) + "\n", "episodes")
    assert items[0].record == {
        "_id": "584cc78c3b38f01595c95f10", "created_at": "2024-12-22T00:00:00Z",
        "cycles": 3, "dose": 45.0, "treatments": [{"treatment_date": "2024-04-06T13:07:34Z"}],
    }  # fmt: skip
    assert items[0].original == canonical


def test_extended_json_arrays_as_mongoexport_jsonarray_writes_them(tmp_path):
    items = read(tmp_path, json.dumps([{"_id": {"$oid": "a" * 24}}]), "episodes")
    assert items[0].record == {"_id": "a" * 24}


def test_plain_keeps_ordinary_dollar_free_objects():
    assert plain({"a": {"b": 1}, "c": [1, {"$numberLong": "7"}]}) == {"a": {"b": 1}, "c": [1, 7]}
