"""Printing from the board: a token slip for the patient and a patient label, each with a QR
code, laid out by print CSS for A4 and 58/80 mm thermal printers (`?paper=a4|80|58`)."""

import segno
from django.conf import settings
from django.contrib.admin.utils import quote
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from patients.models import Patient
from queue_app.models import QueueEntry
from queue_app.selectors import patients_brief

PAPERS = {"a4": "A4", "80": "80 mm", "58": "58 mm"}


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no script, no external request)."""
    return mark_safe(segno.make(data, error="m").svg_inline(scale=4, border=2))  # noqa: S308 - segno's own markup


def _paper(request) -> str:
    paper = request.GET.get("paper", "80")
    return paper if paper in PAPERS else "80"


def urls(wrap, check_view) -> list:
    def slip(request, entry_id: str):
        check_view(request)
        entry = get_object_or_404(QueueEntry, pk=entry_id)
        link = request.build_absolute_uri(
            reverse("admin:queue_app_queueentry_change", args=[quote(entry.pk)])
        )
        context = {"entry": entry, "clinic_name": settings.CLINIC_NAME, "paper": _paper(request),
                   "papers": PAPERS, "qr": qr_svg(link), "qr_text": entry.pk}  # fmt: skip
        return TemplateResponse(request, "queue_app/print_slip.html", context)

    def label(request, patient_id: str):
        check_view(request)
        if not request.user.has_perm("patients.view_patient"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        patient = get_object_or_404(Patient, pk=patient_id)
        brief = patients_brief({patient.pk}).get(patient.pk, {})
        link = request.build_absolute_uri(
            reverse("admin:patients_patient_change", args=[quote(patient.pk)])
        )
        context = {"patient": patient, "brief": brief, "clinic_name": settings.CLINIC_NAME,
                   "paper": _paper(request), "papers": PAPERS, "qr": qr_svg(link),
                   "qr_text": patient.uhid or patient.pk}  # fmt: skip
        return TemplateResponse(request, "queue_app/print_label.html", context)

    return [
        path("board/<str:entry_id>/slip/", wrap(slip), name="queue_app_queueentry_slip"),
        path("label/<path:patient_id>/", wrap(label), name="queue_app_patient_label"),
    ]
