import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from legacy import normalise
from legacy.readers import plain, read_items
from oncology.models import Episode
from patients.models import HistoryEntry, Note, Patient
from queue_app.models import DailyTokenCounter, QueueEntry
from tests.legacy.conftest import SAMPLE, by_file

pytestmark = pytest.mark.django_db
TIMES = {
    "created_at", "updated_at", "added_at", "started_at", "nurse_completed_at",
    "timeline_ready_at", "completed_at", "date", "referral_date", "last_modified_at",
}  # fmt: skip


IMPORTED = (Patient, QueueEntry, Note, HistoryEntry, Episode)


def compared_columns(model) -> list[str]:
    """Every column but the legacy record's fingerprint, which is of the file the row came from
    (the export writes the normalised record, not the original)."""
    return [f.attname for f in model._meta.concrete_fields if f.name != "legacy_fingerprint"]


def snapshot(using="default"):
    """Every row of every imported table, in its compared columns."""
    out = []
    for model in IMPORTED:
        rows = model.objects.using(using).values_list(*compared_columns(model))
        out.append(sorted(rows, key=lambda r: r[0]))
    return out


def differences(before: list, after: list) -> list:
    """(model, row id, field, before, after) for each value that differs: what a failure shows."""
    found = []
    for model, rows, again in zip(IMPORTED, before, after, strict=True):
        table, names = model.__name__, compared_columns(model)
        old, new = {r[0]: r for r in rows}, {r[0]: r for r in again}
        for pk in sorted(old.keys() | new.keys()):
            if pk not in old or pk not in new:
                found.append((table, pk, "the row", pk in old, pk in new))
                continue
            found += [
                (table, pk, name, a, b)
                for name, a, b in zip(names, old[pk], new[pk], strict=True)
                if a != b
            ]
    return found


def equivalent(field: str, legacy, exported) -> bool:
    """Equal up to the normalisation docs/migrating.md documents."""
    if legacy in (None, "") or exported in (None, ""):
        return legacy in (None, "") and exported in (None, "")
    if field in TIMES:
        return normalise.timestamp(legacy, field) == normalise.timestamp(exported, field)
    if field == "gender":
        return normalise.GENDERS[legacy.lower()] == exported
    if field in {"uhid", "age"}:
        return str(legacy) == str(exported)
    return legacy == exported


def accepted(path, kind, rejected_positions):
    for item in read_items(str(path), kind):
        if item.position not in rejected_positions:
            yield item


def test_export_then_import_on_the_same_database_changes_nothing(sample, migrate, tmp_path):
    migrate(sample)
    before = snapshot()
    call_command("export_json", str(tmp_path / "out"), verbosity=0)
    code, report, _ = migrate(tmp_path / "out")
    assert code == 0
    assert report["totals"] == {
        "created": 0, "updated": 0, "unchanged": 186, "rejected": 0, "conflicts": 0,
    }  # fmt: skip
    assert snapshot() == before
    _, again, _ = migrate(tmp_path / "out")  # converged: the export's fingerprints were taken
    assert again["totals"]["unchanged"] == 186 and snapshot() == before


def test_export_of_the_imported_sample_matches_its_accepted_records(sample, migrate, tmp_path):
    _, report, rejects = migrate(sample)
    out = tmp_path / "out"
    call_command("export_json", str(out), verbosity=0)
    renumbered = {w["id"] for w in by_file(report)["queue"]["warnings"] if "token" in w}
    rejected = {(r["file"], r["position"]) for r in rejects}
    exported = {
        "patients": dict(json.loads((out / "patients.json").read_text())),
        "queue": {q["queue_id"]: q for q in json.loads((out / "queue.json").read_text())},
        "notes": {n["note_id"]: n for ns in json.loads((out / "notes.json").read_text()).values()
                  for n in ns},
        "history": {h["history_id"]: h for h in json.loads((out / "history.json").read_text())},
        "episodes": {plain(e)["_id"]: plain(e)
                     for e in map(json.loads, (out / "episodes.json").read_text().splitlines())},
    }  # fmt: skip
    compared = 0
    for kind in exported:
        file = f"{kind}.json"
        positions = {p for f, p in rejected if f == file}
        for item in accepted(sample / file, kind, positions):
            pk = normalise.NORMALISERS[kind](item.record, item.key)["id"]
            mine = exported[kind][pk]
            for field, value in item.record.items():
                if field in {"patient_id"} and kind in {"patients", "notes"}:
                    continue  # the map key is the ID; checked through `pk`
                if kind == "queue" and field == "token_number" and pk in renumbered:
                    continue
                assert equivalent(field, value, mine.get(field)), (kind, pk, field)
                compared += 1
    assert compared > 1000
    assert exported["patients"]["PAT_22FE67A9"]["blood_group"] == "O-"


def test_timestamps_are_exported_in_utc(sample, migrate, tmp_path):
    migrate(sample)
    call_command("export_json", str(tmp_path / "out"), only="patients", verbosity=0)
    patients = json.loads((tmp_path / "out" / "patients.json").read_text())
    # "2024-06-30T06:19:44" had no offset: clinic-local time (Asia/Kolkata, +05:30).
    assert patients["PAT_F596D87F"]["created_at"] == "2024-06-30T00:49:44Z"
    assert dt.datetime.fromisoformat(patients["PAT_F596D87F"]["updated_at"]).utcoffset() == (
        dt.timedelta(0)
    )
    assert not (tmp_path / "out" / "queue.json").exists()


SHARED_SAMPLE = Path("/work/shared/legacy-sample")


@pytest.mark.parametrize(
    "source",
    [
        SAMPLE,
        pytest.param(
            SHARED_SAMPLE,
            marks=pytest.mark.skipif(not SHARED_SAMPLE.is_dir(), reason="no shared sample here"),
        ),
    ],
    ids=["tests-sample", "shared-sample"],
)
def test_export_then_fresh_import_gives_the_same_database(source, migrate, tmp_path):
    data = tmp_path / "in"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.md", "manifest.json"))
    migrate(data)
    before = snapshot()
    call_command("export_json", str(tmp_path / "out"), verbosity=0)
    for model in (Episode, QueueEntry, Note, HistoryEntry, Patient, DailyTokenCounter):
        model.objects.all().delete()
    code, report, rejects = migrate(tmp_path / "out")
    assert (code, rejects, report["totals"]["conflicts"]) == (0, [], 0)
    assert differences(before, snapshot()) == []
