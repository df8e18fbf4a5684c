import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

SAMPLE = Path(__file__).parent / "sample"


@pytest.fixture
def sample(tmp_path) -> Path:
    """A writable copy of the shared legacy sample."""
    target = tmp_path / "legacy"
    shutil.copytree(SAMPLE, target)
    for extra in ("README.md", "manifest.json"):
        (target / extra).unlink()
    return target


@pytest.fixture
def manifest() -> dict:
    return json.loads((SAMPLE / "manifest.json").read_text())


@pytest.fixture
def migrate(tmp_path):
    """`migrate(*paths, **options)` → (exit code, report dict, rejects list)."""

    def run(*paths, **options):
        report = tmp_path / "report.json"
        options.setdefault("verbosity", 0)
        try:
            call_command("migrate_json", *map(str, paths), report=str(report), **options)
            code = 0
        except SystemExit as exc:
            code = exc.code
        rejects_path = Path(options.get("rejects") or tmp_path / "report.rejects.jsonl")
        rejects = [json.loads(line) for line in rejects_path.read_text().splitlines()]
        return code, json.loads(report.read_text()), rejects

    return run


def by_file(report: dict) -> dict:
    return {f["kind"]: f for f in report["files"]}
