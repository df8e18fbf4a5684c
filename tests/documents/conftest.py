"""Files as staff upload them (made here, not shipped), private storage per test, the worker."""

import io
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_tasks import task_backends
from PIL import Image

from tests.factories import PatientFactory


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(fmt="JPEG", color=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


def wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def run_tasks():
    """Run what is queued, as the worker started by bin/serve would (immediate: already ran)."""

    def run():
        if type(task_backends["default"]).__name__ == "DatabaseBackend":
            call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    return run
