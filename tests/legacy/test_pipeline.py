import json

import pytest

from clinic.legacy import pipeline
from clinic.legacy.readers import ReadError


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
