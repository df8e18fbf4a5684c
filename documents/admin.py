"""Admin for documents: upload from the patient's page, review beside the image, thumbnails."""

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from clinic.admin import BigTableAdmin, ReadOnlyAdminMixin
from documents import services
from documents.filetypes import FileRejected
from documents.forms import UploadForm, review_data, review_forms
from documents.models import Document, DocumentBatch, MedicalTimeline
from documents.selectors import document_history
from patients.models import Patient


def _thumb(document, height=80):
    if not document.thumbnail:
        return "-"
    src = reverse("document-thumbnail", args=[document.pk])
    return format_html('<img src="{}" alt="{}" style="max-height:{}px">', src, document, height)


class ReadOnlyAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    pass


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["preview", "id", "patient", "original_name", "kind", "status", "reviewed"]
    list_filter = ["status", "kind"]
    list_select_related = ["patient"]
    date_hierarchy = "uploaded_at"
    search_fields = ["id__exact", "patient__uhid__exact", "batch__id__exact"]
    search_help_text = "Document ID, the patient's UHID, or the batch ID (exactly)."
    fields = [
        "large_preview",
        "id",
        "patient",
        "batch",
        "original_name",
        "kind",
        "content_type",
        "size",
        "sha256",
        "status",
        "error",
        "extracted_data",
        "uploaded_by",
        "uploaded_at",
        "reviewed_by",
        "reviewed_at",
        "history_entries",
    ]
    readonly_fields = fields

    @admin.display(description="Preview")
    def preview(self, document):
        return _thumb(document)

    @admin.display(description="Preview")
    def large_preview(self, document):
        file_url = reverse("document-file", args=[document.pk])
        return format_html('{}<br><a href="{}">Open the file</a>', _thumb(document, 240), file_url)

    @admin.display(boolean=True)
    def reviewed(self, document):
        return document.is_reviewed

    @admin.display(description="History entries confirmed from it")
    def history_entries(self, document):
        rows = [
            (reverse("admin:patients_historyentry_change", args=[quote(e.pk)]), e)
            for e in document_history(document)
        ]
        return format_html_join(", ", '<a href="{}">{}</a>', rows) or "-"

    def get_urls(self):
        own = [
            path(
                "upload/<path:patient_id>/",
                self.admin_site.admin_view(self.upload_view),
                name="documents_document_upload",
            ),
            path(
                "<str:document_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="documents_document_review",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        if request.user.has_perm("documents.review_document"):
            extra_context["review_url"] = reverse(
                "admin:documents_document_review", args=[object_id]
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def _context(self, request, title, **more):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **more,
        }

    def upload_view(self, request, patient_id):
        if not request.user.has_perm("documents.add_document"):
            raise PermissionDenied
        patient = get_object_or_404(Patient, pk=patient_id)
        form = UploadForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST" and not form.is_valid():
            status = 400
        elif request.method == "POST":
            try:
                batch = services.batch_upload(
                    patient=patient,
                    files=form.cleaned_data["files"],
                    by=request.user.get_username(),
                )
            except FileRejected as rejected:
                form.add_error("files", rejected.messages[0])
                status = 413 if rejected.too_large else 400
            else:
                count = batch.documents.count()
                messages.success(
                    request, f"{count} document(s) uploaded for {patient} as batch {batch.pk}."
                )
                return redirect("admin:documents_documentbatch_change", quote(batch.pk))
        context = self._context(request, f"Upload documents: {patient}", patient=patient, form=form)
        return TemplateResponse(request, "admin/documents/upload.html", context, status=status)

    def review_view(self, request, document_id):
        if not request.user.has_perm("documents.review_document"):
            raise PermissionDenied
        document = get_object_or_404(Document.objects.select_related("patient"), pk=document_id)
        form, medications, labs = review_forms(document, request.POST or None)
        if request.method == "POST" and all(f.is_valid() for f in (form, medications, labs)):
            try:
                entries = services.document_review(
                    document=document,
                    data=review_data(form, medications, labs),
                    by=request.user.get_username(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"{len(entries)} history entr{'y' if len(entries) == 1 else 'ies'} "
                    f"confirmed from {document.pk}.",
                )
                return redirect("admin:documents_document_change", quote(document.pk))
        context = self._context(
            request,
            f"Review {document}",
            document=document,
            form=form,
            medications=medications,
            labs=labs,
            preview=_thumb(document, 600),
            file_url=reverse("document-file", args=[document.pk]),
            entries=document_history(document),
        )
        return TemplateResponse(request, "admin/documents/review.html", context)


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = ["preview", "link", "original_name", "kind", "status", "error", "reviewed_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Preview")
    def preview(self, document):
        return _thumb(document)

    @admin.display(description="Document")
    def link(self, document):
        url = reverse("admin:documents_document_change", args=[quote(document.pk)])
        return format_html('<a href="{}">{}</a>', url, document.pk)


@admin.register(DocumentBatch)
class DocumentBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "patient", "status", "created_by", "created_at", "completed_at"]
    list_filter = ["status"]
    list_select_related = ["patient"]
    search_fields = ["id__exact", "patient__uhid__exact"]
    fields = ["id", "patient", "status", "error", "created_by", "created_at", "completed_at"]
    readonly_fields = fields
    inlines = [DocumentInline]


@admin.register(MedicalTimeline)
class MedicalTimelineAdmin(ReadOnlyAdmin):
    list_display = ["id", "patient", "kind", "generated_at", "total_documents", "batch_id"]
    list_filter = ["kind"]
    list_select_related = ["patient"]
    search_fields = ["id__exact", "patient__uhid__exact", "batch_id__exact"]
    fields = [
        "id",
        "patient",
        "kind",
        "batch_id",
        "generated_at",
        "total_documents",
        "summary",
        "timeline_events",
        "current_medications",
        "chronic_conditions",
        "allergies",
    ]
    readonly_fields = fields
