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


def test_without_a_secret_key_production_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = check_deploy(**env, DATABASE_URL="sqlite:///clinic.sqlite3")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_seed_demo_refuses_on_a_production_configuration(settings):
    from django.core.management import CommandError, call_command

    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    with pytest.raises(CommandError, match="production configuration"):
        call_command("seed_demo", "--no-data")


@pytest.mark.django_db
def test_seed_demo_on_production_only_when_told(settings, monkeypatch):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    monkeypatch.setenv("SEED_DEMO_ON_PRODUCTION", "1")
    call_command("seed_demo", "--no-data", stdout=open(os.devnull, "w"))
    assert get_user_model().objects.filter(username="nurse").exists()
