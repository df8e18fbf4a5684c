"""Crafted files through `migrate_json`: every bad record is a reject with a reason, never a
traceback, and the rest of the file imports (issue 11, "Why")."""

import json

import pytest

from patients.models import Patient
from tests.legacy.conftest import by_file

pytestmark = pytest.mark.django_db


def test_crafted_patients_are_rejected_alone_with_reasons(tmp_path, migrate):
    src = tmp_path / "in"
    src.mkdir()
    deep = "[" * 10_000 + "]" * 10_000
    lines = [
        json.dumps({"patient_id": "PAT_OK1", "name": "A", "n": float("nan")}).encode(),
        json.dumps({"patient_id": "PAT_OLD", "name": "B", "created_at": "0001-01-01"}).encode(),
        b'{"patient_id": "PAT_DEEP", "name": "C", "x": ' + deep.encode() + b"}",
        b'{"patient_id": "PAT_UTF", "name": "\xff\xfe"}',
        b'{"patient_id": "PAT_BIG", "name": "D", "uhid": 123456789012345678901234, "s": 1e400}',
        b'{"patient_id": "PAT_OK2", "name": "E"}',
    ]
    (src / "patients.json").write_bytes(b"\n".join(lines) + b"\n")
    code, report, rejects = migrate(src)
    assert code == 1 and by_file(report)["patients"]["rejected"] == 3
    reasons = {r["position"]: r["reason"] for r in rejects}
    assert set(reasons) == {"line 2", "line 3", "line 4"}
    assert "outside the years" in reasons["line 2"]
    assert "nested deeper than 64 levels" in reasons["line 3"]
    assert "UTF-8" in reasons["line 4"]
    assert set(Patient.objects.values_list("pk", flat=True)) == {"PAT_OK1", "PAT_BIG", "PAT_OK2"}
    big = Patient.objects.get(pk="PAT_BIG")
    assert big.uhid == "123456789012345678901234"
    assert big.extra == {"s": {"$numberDecimal": "1E+400"}}
    assert Patient.objects.get(pk="PAT_OK1").extra == {"n": {"$numberDouble": "NaN"}}


def test_a_malformed_number_long_in_episodes_rejects_that_episode(tmp_path, migrate):
    src = tmp_path / "in"
    src.mkdir()
    (src / "patients.json").write_text(json.dumps([{"patient_id": "PAT_1", "name": "A"}]))
    good = {"_id": {"$oid": "a" * 24}, "patient_id": "PAT_1", "cancer_type": "bowel"}
    bad = {"_id": {"$oid": "b" * 24}, "patient_id": "PAT_1",
           "created_at": {"$date": {"$numberLong": "17348256OOOOO"}}}  # fmt: skip
    (src / "episodes.json").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    code, report, rejects = migrate(src)
    assert code == 1 and by_file(report)["episodes"]["created"] == 1
    (reject,) = rejects
    assert reject["position"] == "line 2" and "$numberLong" in reject["reason"]
    assert reject["record"] == bad  # as written


def test_a_wrapper_with_sibling_keys_imports_its_records(tmp_path, migrate):
    src = tmp_path / "in"
    src.mkdir()
    wrapped = {
        "exported_at": "2025-11-08T12:00:00",
        "patients": [{"patient_id": "P1", "name": "A"}],
    }
    (src / "patients.json").write_text(json.dumps(wrapped))
    code, report, rejects = migrate(src)
    assert (code, rejects, by_file(report)["patients"]["created"]) == (0, [], 1)
    (warning,) = by_file(report)["patients"]["warnings"]
    assert warning["kind"] == "not_read" and "exported_at" in warning["message"]
