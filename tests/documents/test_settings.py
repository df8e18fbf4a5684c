"""Storage and task backends follow the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json; from clinic import settings as s; "
    "print(json.dumps([s.STORAGES['documents'], s.TASKS['default']['BACKEND'], "
    "str(s.MEDIA_ROOT)], default=str))"
)


def _settings(**env):
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "S3_BUCKET"}}
    out = subprocess.run(
        [sys.executable, "-c", PRINT],
        env={**environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_documents_default_to_the_local_media_root_and_the_database_task_backend():
    storage, tasks, media = _settings()
    assert storage == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert tasks == "django_tasks_db.DatabaseBackend" and media.endswith("var/media")


def test_s3_bucket_switches_documents_to_private_s3_compatible_storage():
    storage, _, _ = _settings(S3_BUCKET="clinic-docs", S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "clinic-docs"
    assert storage["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert storage["OPTIONS"]["default_acl"] == "private" and storage["OPTIONS"]["querystring_auth"]


def test_on_mongodb_tasks_use_the_database_backend_with_its_own_migrations():
    _, tasks, _ = _settings(DATABASE_URL="mongodb://127.0.0.1:1/clinic")
    assert tasks == "django_tasks_db.DatabaseBackend"
    probe = "from clinic import settings as s; print(s.MIGRATION_MODULES['django_tasks_database'])"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "DATABASE_URL": "mongodb://127.0.0.1:1/clinic"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "clinic.mongo_migrations.django_tasks_database"


def test_another_task_backend_comes_from_the_environment():
    _, tasks, _ = _settings(TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend")
    assert tasks == "django_tasks.backends.immediate.ImmediateBackend"
