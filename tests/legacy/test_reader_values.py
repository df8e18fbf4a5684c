"""Crafted files as an admin meets them in a messy export: each is read, or rejected alone."""

import json
from decimal import Decimal

import pytest

from legacy.readers import ReadError, read_items
from legacy.values import MAX_DEPTH, json_safe, settle

PATIENT = {"patient_id": "PAT_1", "name": "Asha"}


def read(tmp_path, content, kind="patients", **options):
    path = tmp_path / f"{kind}.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return list(read_items(str(path), kind, **options))


def lines(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def deep(levels: int):
    value = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_content_nested_deeper_than_the_limit_rejects_that_line_alone(tmp_path):
    too_deep = "[" * 10_000 + "]" * 10_000
    text = lines(PATIENT, '{"patient_id": "PAT_2", "name": "B", "x": ' + too_deep + "}", PATIENT)
    items = read(tmp_path, text)
    assert [i.error for i in items] == [
        None,
        f"the record is nested deeper than {MAX_DEPTH} levels",
        None,
    ]
    assert items[1].raw.startswith('{"patient_id": "PAT_2"')


def test_content_nested_deeper_than_the_limit_in_an_array_is_one_reject(tmp_path):
    bad = PATIENT | {"x": deep(MAX_DEPTH + 800)}
    ok = PATIENT | {"x": deep(MAX_DEPTH - 1)}  # the record itself is the first level
    items = read(
        tmp_path, "[" + json.dumps(ok) + "," + json.dumps(bad) + "," + json.dumps(PATIENT) + "]"
    )
    assert [i.error is None for i in items] == [True, False, True]
    assert "nested deeper than 64 levels" in items[1].error
    assert json.loads(items[1].raw)["patient_id"] == "PAT_1" and items[1].record is None


@pytest.mark.parametrize(
    "value",
    [
        {"$numberLong": "12x"},
        {"$date": {"$numberLong": "soon"}},
        {"$date": {"$numberLong": "9" * 30}},
        {"$numberInt": None},
        {"$date": []},
    ],
)
def test_a_malformed_extended_json_value_rejects_that_record_alone(tmp_path, value):
    good = {"_id": {"$oid": "a" * 24}, "cycles": {"$numberInt": "3"}}
    items = read(tmp_path, lines(good, {"_id": {"$oid": "b" * 24}, "x": value}, good), "episodes")
    assert items[0].error is None and items[2].error is None
    assert items[1].error and "$" in items[1].error


def test_bad_utf8_in_a_json_lines_file_rejects_that_line_with_its_number(tmp_path):
    content = (
        lines(PATIENT).encode()
        + b'{"patient_id": "PAT_2", "name": "\xff\xfe"}\n'
        + lines(PATIENT).encode()
    )
    items = read(tmp_path, content)
    assert [i.position for i in items] == ["line 1", "line 2", "line 3"]
    assert items[1].error.startswith("line is not valid UTF-8") and items[2].error is None


def test_bad_utf8_in_the_first_line_of_a_json_lines_file_still_reads_the_rest(tmp_path):
    content = b'{"patient_id": "PAT_2", "name": "\xff"}\n' + lines(PATIENT, PATIENT).encode()
    items = read(tmp_path, content)
    assert [i.error is None for i in items] == [False, True, True]


def test_bad_utf8_in_an_array_file_stops_at_the_exact_byte(tmp_path):
    head = json.dumps([PATIENT] * 5000)[:-1].encode() + b', {"patient_id": "PAT_X", "name": "'
    with pytest.raises(ReadError) as failure:
        read(tmp_path, head + b'\xc3\x28"}]')
    assert failure.value.offset == len(head)
    assert "UTF-8" in failure.value.reason


@pytest.mark.parametrize("size", [100, 70_000, 200_000])
def test_the_stop_offset_is_the_failing_byte_not_a_chunk_start(tmp_path, size):
    # Pretty-printed (line breaks in yajl's snippet) and past the first 64 KiB chunk.
    good = json.dumps([PATIENT] * (size // 40), indent=2)[:-2]
    content = good + ',\n  {"patient_id": "PAT_X" "name": "B"}\n]'
    with pytest.raises(ReadError) as failure:
        read(tmp_path, content)
    assert failure.value.offset == content.index('"name": "B"')


def test_integers_above_2_63_and_1e400_are_read_exactly(tmp_path):
    big = 2**64 + 1
    text = (
        '[{"patient_id": "PAT_1", "name": "A", "uhid": %d, "score": 1e400, "x": [%d, 1e400, 0.1]}]'
    )
    (item,) = read(tmp_path, text % (big, big))
    assert item.error is None
    assert item.record["uhid"] == big and item.record["score"] == Decimal("1e400")
    assert item.record["x"] == [{"$numberDecimal": str(big)}, {"$numberDecimal": "1E+400"}, 0.1]


def test_big_numbers_in_json_lines_are_read_exactly_too(tmp_path):
    (item,) = read(
        tmp_path, '{"patient_id": "PAT_1", "n": 1e400, "m": 1.00000000000000000001, "f": 2.5}\n'
    )
    assert item.record["n"] == Decimal("1e400") and item.record["f"] == 2.5
    assert item.record["m"] == Decimal("1.00000000000000000001")


def test_nan_and_infinity_survive_json_lines_and_extended_json(tmp_path):
    (item,) = read(tmp_path, '{"patient_id": "PAT_1", "n": NaN, "i": [Infinity, -Infinity]}\n')
    assert item.record["n"] != item.record["n"]  # NaN
    assert item.record["i"] == [{"$numberDouble": "Infinity"}, {"$numberDouble": "-Infinity"}]
    ext = {
        "_id": {"$oid": "a" * 24},
        "dose": {"$numberDouble": "NaN"},
        "treatments": [{"dose": {"$numberDouble": "Infinity"}}],
    }
    item, _ = read(tmp_path, lines(ext, ext), "episodes")
    assert item.record["dose"] != item.record["dose"]
    assert item.record["treatments"] == [{"dose": {"$numberDouble": "Infinity"}}]
    assert json_safe(item.record["dose"]) == {"$numberDouble": "NaN"}


def test_a_wrapper_with_sibling_keys_imports_its_records_and_warns(tmp_path):
    heard = []
    content = json.dumps({"exported_at": "2025-11-08T12:00:00", "count": 1, "patients": [PATIENT]})
    items = read(tmp_path, content, on_warning=heard.append)
    assert [i.record for i in items] == [PATIENT]
    assert len(heard) == 1 and "exported_at" in heard[0] and "count" in heard[0]


def test_a_scalar_beside_the_records_of_a_map_is_a_warning_not_a_record(tmp_path):
    heard = []
    content = json.dumps({"PAT_1": {"name": "Asha"}, "exported_at": "2025-11-08"})
    items = read(tmp_path, content, on_warning=heard.append)
    assert [i.key for i in items] == ["PAT_1"] and "exported_at" in heard[0]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_file_is_refused_in_words(tmp_path, encoding):
    content = json.dumps([PATIENT]).encode(encoding)
    if encoding == "utf-16-be":
        content = b"\xfe\xff" + content
    with pytest.raises(ReadError) as failure:
        read(tmp_path, content)
    assert failure.value.offset == 0 and "save it as UTF-8" in failure.value.reason


def test_a_leading_utf8_bom_is_fine_in_json_lines_too(tmp_path):
    items = read(tmp_path, b"\xef\xbb\xbf" + lines(PATIENT, PATIENT).encode())
    assert [i.record for i in items] == [PATIENT, PATIENT]


def test_settle_leaves_the_record_as_written_untouched():
    record = {"a": [1, {"$numberLong": "7"}], "b": 2**70}
    assert settle(record, extended=True) == {"a": [1, 7], "b": 2**70}
    assert record == {"a": [1, {"$numberLong": "7"}], "b": 2**70}
