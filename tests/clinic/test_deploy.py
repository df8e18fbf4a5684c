"""`manage.py check --deploy` under production environment settings reports nothing."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "clinic.example.org",
}


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    # A fresh process: settings read the environment once, at import.
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "clinic.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "database_url",
    ["sqlite:///clinic.sqlite3", "mongodb+srv://clinic:secret@cluster0.example.net/clinic"],
)
def test_check_deploy_reports_nothing_with_production_settings(database_url):
    result = check_deploy(**PRODUCTION, DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_does_flag_debug_left_on():
    result = check_deploy(**{**PRODUCTION, "DEBUG": "1"}, DATABASE_URL="sqlite:///clinic.sqlite3")
    assert result.returncode != 0
    assert "security.W018" in result.stderr
