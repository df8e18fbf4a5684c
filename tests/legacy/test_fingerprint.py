import datetime as dt
import decimal

import pytest

from legacy.fingerprint import SeenIds, legacy_fingerprint, row_fingerprint


def test_a_fingerprint_ignores_key_order_but_not_types():
    assert legacy_fingerprint({"a": 1, "b": [1, 2]}) == legacy_fingerprint({"b": [1, 2], "a": 1})
    values = [1, 1.0, True, "1", None, [1], {"x": 1}]
    assert len({legacy_fingerprint({"a": v}) for v in values}) == len(values)


@pytest.mark.parametrize(
    "odd",
    [float("nan"), float("inf"), float("-inf"), 2**64 + 1, decimal.Decimal("1e400")],
    ids=["nan", "inf", "-inf", "big-int", "decimal"],
)
def test_values_orjson_cannot_write_still_differ_from_null_and_each_other(odd):
    assert legacy_fingerprint({"a": odd, "b": None}) != legacy_fingerprint({"a": None, "b": None})
    assert legacy_fingerprint({"a": odd}) == legacy_fingerprint({"a": odd})


def test_big_integers_that_differ_past_64_bits_differ():
    assert legacy_fingerprint({"a": 2**70}) != legacy_fingerprint({"a": 2**70 + 1})


def test_a_row_fingerprint_is_stable_across_microseconds():
    moment = dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert row_fingerprint([moment, "x"]) == row_fingerprint([moment.replace(microsecond=0), "x"])
    assert row_fingerprint([moment, "x"]) != row_fingerprint([moment, "y"])


def test_seen_ids_return_the_first_copy_of_what_came_before():
    with SeenIds() as seen:
        assert seen.first_copies([("A", "1"), ("B", "2")]) == {}
        assert seen.first_copies([("C", "3"), ("A", "9")]) == {"A": "1"}
        assert seen.first_copies([("A", "7")]) == {"A": "1"}
