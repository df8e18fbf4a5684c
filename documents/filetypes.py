"""What an uploaded file is, read from its first bytes (never from its name or the browser)."""

import mimetypes
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Detected:
    kind: str  # Document.Kind value
    content_type: str
    extension: str
    label: str


ACCEPTED = {
    "image/jpeg": Detected("image", "image/jpeg", "jpg", "JPEG image"),
    "image/png": Detected("image", "image/png", "png", "PNG image"),
    "image/heic": Detected("image", "image/heic", "heic", "HEIC image"),
    "application/pdf": Detected("pdf", "application/pdf", "pdf", "PDF"),
    "audio/mp4": Detected("audio", "audio/mp4", "m4a", "M4A audio"),
    "audio/mpeg": Detected("audio", "audio/mpeg", "mp3", "MP3 audio"),
    "audio/x-wav": Detected("audio", "audio/wav", "wav", "WAV audio"),
}
# An M4A recording is an MPEG-4 container; the sniffer cannot tell audio-only from video.
SAME_CONTAINER = {"video/mp4": "audio/mp4"}
# What a file name may claim, as MIME types, besides what `mimetypes` knows.
NAME_TYPES = {"heic": "image/heic", "heif": "image/heic", "m4a": "audio/mp4", "wav": "audio/x-wav"}
ACCEPTED_WORDS = "JPEG, PNG, HEIC, PDF, M4A, MP3 or WAV"


class FileRejected(ValidationError):
    """An upload refused for what it is (400) or its size (413); the message names the file."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message, code="too_large" if too_large else "file_type")
        self.too_large = too_large


def _claimed_type(name: str) -> str | None:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return NAME_TYPES.get(ext) or mimetypes.guess_type(f"x.{ext}")[0] if ext else None


def detect(upload) -> Detected:
    """The accepted type of `upload` (a Django File), or FileRejected naming it."""
    name = getattr(upload, "name", "") or "the file"
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size > limit:
        raise FileRejected(
            f"{name} is {upload.size / 1_048_576:.1f} MB; the largest file accepted is "
            f"{limit / 1_048_576:.0f} MB.",
            too_large=True,
        )
    if not upload.size:
        raise FileRejected(f"{name} is empty.")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    guessed = filetype.guess(head)
    mime = SAME_CONTAINER.get(guessed.mime, guessed.mime) if guessed else None
    found = ACCEPTED.get(mime)
    if found is None:
        what = f"its content is {guessed.mime}" if guessed else "its content is not recognised"
        raise FileRejected(f"{name} is not a {ACCEPTED_WORDS} file ({what}).")
    claimed = _claimed_type(name)
    claimed = SAME_CONTAINER.get(claimed, claimed)
    if claimed and claimed in ACCEPTED and claimed != mime:
        raise FileRejected(
            f"{name} is named as {ACCEPTED[claimed].label} but its content is {found.label}."
        )
    if claimed and claimed not in ACCEPTED:
        raise FileRejected(f"{name} is named as {claimed}, but only {ACCEPTED_WORDS} are taken.")
    return found
