import json
import multiprocessing
import threading
import time

import pytest

from legacy import pipeline
from legacy.readers import Item, ReadError


def _shape(batches):
    return [[(item.position, row, reason) for item, row, reason in batch] for batch in batches]


def test_the_reader_process_yields_the_same_batches_as_reading_in_process(tmp_path):
    records = [{"name": f"P{n}", "age": "x" if n == 3 else n} for n in range(10)]
    path = tmp_path / "patients.json"
    path.write_text(json.dumps({f"PAT_{n}": r for n, r in enumerate(records)}))
    here = _shape(pipeline.batches(str(path), "patients", 4))
    assert _shape(pipeline._from_child(str(path), "patients", 4)) == here
    assert [len(b) for b in here] == [4, 4, 2]
    assert here[0][3][2] == "age is not a whole number: 'x'"
    (first, *_), *_ = pipeline._from_child(str(path), "patients", 4)
    assert (first[0].record, first[0].key, first[0].original) == (records[0], "PAT_0", None)


def test_a_read_error_in_the_reader_process_arrives_after_the_records_before_it(tmp_path):
    path = tmp_path / "queue.json"
    path.write_text('[{"queue_id": "Q_1"}, {"queue_id": ')
    got = []
    with pytest.raises(ReadError) as failure:
        for batch in pipeline._from_child(str(path), "queue", 10):
            got.extend(batch)
    assert [item.position for item, _, _ in got] == ["item 0"]
    assert failure.value.offset == path.stat().st_size


def _items_shape(batches):
    return [
        [(i.position, i.key, i.record, i.original, row, reason) for i, row, reason in batch]
        for batch in batches
    ]


def _awkward_patients(tmp_path):
    # Extended JSON (originals kept for rejects), an integer over 64 bits, NaN and a bad record:
    # each must survive the trip between the processes exactly.
    lines = [
        {"patient_id": f"PAT_{n}", "name": f"P{n}", "age": {"$numberInt": str(n)}}
        | ({"odd": {"$numberDouble": "NaN"}} if n == 2 else {})
        | ({"big": 10**30} if n == 4 else {})
        | ({"age": "x"} if n == 5 else {})
        for n in range(9)
    ]
    path = tmp_path / "patients.json"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def test_batches_the_child_normalises_carry_their_records_exactly(tmp_path, monkeypatch):
    path = _awkward_patients(tmp_path)
    here = _items_shape(pipeline.batches(str(path), "patients", 2))
    monkeypatch.setattr(pipeline, "_should_help", lambda waited, cost: False)
    sent = _items_shape(pipeline._from_child(str(path), "patients", 2))
    assert repr(sent) == repr(here)  # repr: NaN is not equal to itself


def test_batches_this_process_normalises_for_the_child_come_out_the_same(tmp_path, monkeypatch):
    path = _awkward_patients(tmp_path)
    here = _items_shape(pipeline.batches(str(path), "patients", 2))
    normalise, here_in_parent = pipeline.normalised, []

    def slow_normalised(items, kind):  # a slow child, so that this process waits and helps
        here_in_parent.append(len(items))
        time.sleep(0.05)
        return normalise(items, kind)

    monkeypatch.setattr(pipeline, "normalised", slow_normalised)
    monkeypatch.setattr(pipeline, "_should_help", lambda waited, cost: True)
    helped = _items_shape(pipeline._from_child(str(path), "patients", 2))
    assert here_in_parent  # the forked child's calls are not counted here
    assert repr(helped) == repr(here)  # repr: NaN is not equal to itself
    assert here[2][0][2]["big"] == 10**30 and here[2][1][5] == "age is not a whole number: 'x'"


def test_the_raw_item_path_matches_the_normalised_one_item_for_item(tmp_path):
    path = tmp_path / "queue.json"
    path.write_text(
        json.dumps(
            [
                {"queue_id": "Q_1", "patient_id": "PAT_1", "token_number": 1, "status": "waiting",
                 "added_at": "2024-01-28T10:00:00", "note": "kept in extra"},
                {"queue_id": "Q_2", "patient_id": "PAT_1", "status": "waiting"},
            ]
        )
    )  # fmt: skip
    (items,) = pipeline.item_batches(str(path), "queue", 10)
    sent = pipeline._decode(pipeline._encode(pipeline._pack_items(items)))
    assert _items_shape([pipeline.normalised([Item(*f) for f in sent], "queue")]) == _items_shape(
        [pipeline.normalised(items, "queue")]
    )
    # A queue row holds a date, which marshal cannot carry: the batch goes pickled instead.
    (batch,) = pipeline.batches(str(path), "queue", 10)
    packed = pipeline._pack(batch)
    assert pipeline._encode(packed)[0] is False
    assert pipeline._decode(pipeline._encode(packed)) == packed


def test_a_caller_that_stops_early_leaves_no_reader_process_or_thread_behind(tmp_path):
    path = tmp_path / "patients.json"
    path.write_text(json.dumps({f"PAT_{n}": {"name": f"P{n}"} for n in range(200)}))
    threads = threading.active_count()
    batches = pipeline._from_child(str(path), "patients", 2)
    assert len(next(batches)) == 2
    batches.close()
    assert multiprocessing.active_children() == []
    assert threading.active_count() == threads
