"""The foundation stands below the apps: nothing in clinic/ imports an app."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = {"patients", "queue_app", "oncology", "legacy", "documents"}


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_no_module_of_clinic_imports_an_app():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "clinic").rglob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in APPS
    ]
    assert offenders == []


def test_the_check_sees_an_app_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from patients.models import Patient\nimport legacy.readers\n")
    assert list(_imported_modules(bad)) == ["patients.models", "legacy.readers"]
