"""kill -9 a real `manage.py migrate_json` mid-import; the re-run must end in the same database."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from benchmarks.generate_legacy import generate

ROOT = Path(__file__).resolve().parents[2]


def on_mongodb() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("mongodb://")


def sizes() -> tuple[int, int]:
    """(patients, batch size): the MongoDB leg's test server is far slower than SQLite."""
    return (300, 20) if on_mongodb() else (3000, 200)


def _database_url(tmp_path: Path, name: str) -> str:
    leg = os.environ.get("DATABASE_URL", "")
    if on_mongodb():
        # The leg's throwaway server; one database per run keeps the runs apart.
        return leg.rsplit("/", 1)[0] + f"/crash_{name}_{uuid.uuid4().hex[:12]}"
    return f"sqlite:///{tmp_path / name}.sqlite3"


def _env(url: str) -> dict:
    # Every first import into an empty table is a bulk load: secondary indexes dropped and
    # built at the end, so a kill can leave them missing.
    return os.environ | {"DATABASE_URL": url}


def _manage(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _checksum(url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.legacy.db_checksum"],
        env=_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip()


def _import_killed_at(url: str, data: Path, kill_after: tuple[str, int]) -> None:
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "migrate_json",
        str(data),
        "--batch-size",
        str(sizes()[1]),
        "-v",
        "2",
        "--rejects",
        os.devnull,
    ]
    process = subprocess.Popen(command, env=_env(url), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if line.startswith(f"{kill_after[0]}: {kill_after[1] * sizes()[1]} "):
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.stdout.close()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, f"finished before it was killed: {seen}"


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [("queue.json", 2), ("notes.json", 3)])
def test_a_rerun_after_kill_9_ends_in_the_same_database(tmp_path, kill_after):
    data = tmp_path / "legacy"
    generate(str(data), sizes()[0])
    clean, killed = _database_url(tmp_path, "clean"), _database_url(tmp_path, "killed")
    for url in (clean, killed):
        assert _manage(url, "migrate", "-v", "0").returncode == 0
    assert (
        _manage(
            clean,
            "migrate_json",
            str(data),
            "--batch-size",
            str(sizes()[1]),
            "--rejects",
            os.devnull,
        ).returncode
        == 0
    )
    _import_killed_at(killed, data, kill_after)
    assert _checksum(killed) != _checksum(clean)  # really interrupted mid-way
    rerun = _manage(
        killed, "migrate_json", str(data), "--batch-size", str(sizes()[1]), "--rejects", os.devnull
    )
    assert rerun.returncode == 0, rerun.stderr
    assert _checksum(killed) == _checksum(clean)
