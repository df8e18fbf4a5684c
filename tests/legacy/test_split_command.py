"""`manage.py split_embedded`: prompt, dry run, reverse, report, exit codes, kill -9 recovery."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from oncology.models import Episode, Treatment, Tumour
from tests.factories import EpisodeFactory
from tests.legacy.test_split import arrays, load_sample

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sample(db):
    return load_sample()


def run(*args, answer=None, monkeypatch=None):
    if answer is not None:
        monkeypatch.setattr("builtins.input", lambda prompt: answer)
    return call_command("split_embedded", *args, stdout=open(os.devnull, "w"))


def test_it_splits_with_no_input_and_writes_the_report(sample, tmp_path):
    report = tmp_path / "split.json"
    run("--no-input", "--report", str(report))
    summary = json.loads(report.read_text())
    assert summary["exit_code"] == 0 and summary["validation"]["ok"]
    assert summary["embedded_items_before"] == {"treatment": 8, "tumour": 6}
    assert summary["before"]["episodes_holding_items"] == 6  # one sample episode holds none
    assert summary["after"]["episodes_holding_items"] == 0
    assert summary["after"]["treatment_records"] == 8
    assert summary["after"]["tumour_records"] == 6
    assert summary["warnings"]["derived_id"] == 13  # only one sample item carries its ID
    assert summary["duration_s"] >= 0 and "rate_episodes_per_s" in summary


def test_refusing_the_prompt_changes_nothing(sample, monkeypatch):
    before = arrays()
    with pytest.raises(CommandError) as exc:
        run(answer="no", monkeypatch=monkeypatch)
    assert exc.value.returncode == 2
    assert arrays() == before and not Treatment.objects.exists()


def test_yes_at_the_prompt_splits(sample, monkeypatch):
    run(answer="yes", monkeypatch=monkeypatch)
    assert Treatment.objects.count() == 8


def test_dry_run_writes_nothing_and_does_not_ask(sample, tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked"))
    before = arrays()
    report = tmp_path / "dry.json"
    run("--dry-run", "--report", str(report))
    assert arrays() == before and not Treatment.objects.exists() and not Tumour.objects.exists()
    assert json.loads(report.read_text())["items_moved"] == {"treatment": 8, "tumour": 6}


def test_rerun_and_reverse_round_trip(sample):
    before = arrays()
    run("--no-input", "--batch-size", "2")
    run("--no-input")
    assert Treatment.objects.count() == 8
    run("--no-input", "--reverse", "--batch-size", "3")
    assert json.dumps(arrays()) == json.dumps(before)
    assert not Treatment.objects.exists() and not Tumour.objects.exists()


def test_an_unconvertible_item_exits_1_and_keeps_the_episode(db, tmp_path):
    bad = EpisodeFactory(embedded_treatments=[["not", "an", "object"]])
    EpisodeFactory(embedded_tumours=[{"tumour_type": "primary"}])
    report = tmp_path / "r.json"
    with pytest.raises(CommandError) as exc:
        run("--no-input", "--report", str(report))
    assert exc.value.returncode == 1
    summary = json.loads(report.read_text())
    assert summary["error_count"] == 1 and summary["errors"][0]["episode"] == bad.pk
    assert summary["validation"]["ok"] and summary["after"]["episodes_holding_items"] == 1
    assert Episode.objects.get(pk=bad.pk).embedded_treatments == [["not", "an", "object"]]


@pytest.mark.parametrize("option", ["--batch-size", "--workers"])
def test_a_bad_batch_size_or_worker_count_is_a_usage_error(sample, option):
    before = arrays()
    with pytest.raises(CommandError) as exc:
        run("--no-input", option, "0")
    assert exc.value.returncode == 2
    assert option in str(exc.value)
    assert arrays() == before and not Treatment.objects.exists()


# --- kill -9 ---------------------------------------------------------------------------------


def _database_url(tmp_path: Path, name: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("mongodb"):
        return url.rsplit("/", 1)[0] + f"/split_kill_{name}"
    return f"sqlite:///{tmp_path / name}.sqlite3"


def _prepare(url: str, episodes: int) -> dict:
    # Worker processes start at any size, so the runs below split in two processes at once.
    env = os.environ | {"DATABASE_URL": url, "CLINIC_SPLIT_MIN_EPISODES_PER_WORKER": "1"}
    for args in (
        ["manage.py", "migrate", "-v", "0", "--skip-checks"],
        ["benchmarks/bench_split.py", "generate", "--episodes", str(episodes)],
    ):
        subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True)
    return env


def _split(env: dict, *extra: str, kill_after_batches: int | None = None) -> int:
    cmd = [
        sys.executable,
        "manage.py",
        "split_embedded",
        "--no-input",
        "--skip-checks",
        "--batch-size",
        str(BATCH),
        "-v",
        "2",
        *extra,
    ]
    env = env | {"PYTHONUNBUFFERED": "1"}  # see each batch line as it is committed
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    batches = 0
    for line in proc.stdout:
        batches += line.startswith("batch committed")
        if kill_after_batches is not None and batches == kill_after_batches:
            proc.send_signal(signal.SIGKILL)  # mid-way through the next batch
            break
    proc.stdout.close()
    return proc.wait()


def _checksum(env: dict) -> str:
    out = subprocess.run(
        [sys.executable, "benchmarks/bench_split.py", "checksum"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _drop(url: str) -> None:
    if url.startswith("mongodb"):
        from pymongo import MongoClient

        with MongoClient(url) as client:
            client.drop_database(url.rsplit("/", 1)[1])


ON_MONGODB = os.environ.get("DATABASE_URL", "").startswith("mongodb")
# secantusdb scans a collection for every lookup by ID, so the MongoDB leg runs a smaller set.
EPISODES, BATCH = (300, 25) if ON_MONGODB else (3000, 100)


@pytest.mark.slow
def test_two_workers_end_where_one_process_does(tmp_path):
    urls = [_database_url(tmp_path, name) for name in ("two", "one")]
    try:
        two, one = (_prepare(url, EPISODES) for url in urls)
        original = _checksum(one)
        assert _split(one, "--workers", "1") == 0
        assert _split(two, "--workers", "2") == 0
        assert _checksum(two) == _checksum(one) != original
        assert _split(two, "--workers", "2", "--reverse") == 0
        assert _checksum(two) == original
    finally:
        for url in urls:
            _drop(url)


@pytest.mark.slow
def test_a_run_killed_at_any_point_converges_on_rerun(tmp_path):
    episodes = EPISODES
    urls = [_database_url(tmp_path, name) for name in ("killed", "clean")]
    try:
        killed, clean = (_prepare(url, episodes) for url in urls)
        original = _checksum(killed)
        assert _split(clean) == 0
        expected = _checksum(clean)

        # Killed with its two workers mid-batch (they stop at their next batch boundary).
        assert _split(killed, "--workers", "2", kill_after_batches=3) == -signal.SIGKILL
        assert _checksum(killed) not in (original, expected)  # really stopped half-way
        assert _split(killed, kill_after_batches=EPISODES // BATCH * 2 // 3) == -signal.SIGKILL
        assert _split(killed) == 0
        assert _checksum(killed) == expected

        assert _split(killed, "--reverse", kill_after_batches=5) == -signal.SIGKILL
        assert _split(killed, "--reverse") == 0
        assert _checksum(killed) == original
    finally:
        for url in urls:
            _drop(url)
