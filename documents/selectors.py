"""Reads for documents: the checked, audited file response."""

from django.http import FileResponse, Http404

from documents.models import Document
from patients.models import HistoryEntry


def document_file_response(*, document: Document, which: str, attachment: bool = False):
    """The stored file (or its thumbnail) as a private, uncached response. The caller has
    checked the role; the access log (clinic.access_log) records the read."""
    field = document.thumbnail if which == "thumbnail" else document.file
    if not field.name:
        raise Http404("This document has no preview.")
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError as missing:
        raise Http404("The file of this document is missing from storage.") from missing
    if which == "thumbnail":
        name, content_type = f"{document.pk}.png", "image/png"
    else:
        ext = field.name.rsplit(".", 1)[-1]
        name = document.original_name or f"{document.pk}.{ext}"
        content_type = document.content_type
    response = FileResponse(
        handle, as_attachment=attachment, filename=name, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


def document_history(document: Document):
    """The history entries confirmed from the document, oldest first."""
    return HistoryEntry.objects.filter(document_id=document.pk).order_by("created_at", "id")
