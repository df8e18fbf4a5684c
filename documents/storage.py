"""Where document files live: `STORAGES["documents"]` (local MEDIA_ROOT, or S3-compatible)."""

from django.core.files.storage import storages


def document_storage():
    """A callable, so migrations name it rather than the backend configured today."""
    return storages["documents"]


def document_path(instance, filename: str) -> str:
    """`documents/<patient_id>/<patient_id>_<document_id>.<ext>`: the legacy uploads folder's
    file name, in a folder per patient."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"documents/{instance.patient_id}/{instance.patient_id}_{instance.pk}.{ext}"


def thumbnail_path(instance, filename: str) -> str:
    return f"documents/{instance.patient_id}/thumbnails/{instance.pk}.png"
