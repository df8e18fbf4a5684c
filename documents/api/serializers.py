from django.urls import reverse
from rest_framework import serializers

from documents.models import Document, DocumentBatch, MedicalTimeline
from documents.selectors import document_history


class DocumentSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="Checked download (role, audit).")
    thumbnail_url = serializers.SerializerMethodField()
    history_entries = serializers.SerializerMethodField(
        help_text="IDs of the history entries confirmed from this document."
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "patient",
            "batch",
            "note_id",
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
            "processed_at",
            "reviewed_by",
            "reviewed_at",
            "history_entries",
            "file_url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    def get_file_url(self, document) -> str:
        return reverse("document-file", args=[document.pk])

    def get_thumbnail_url(self, document) -> str | None:
        return reverse("document-thumbnail", args=[document.pk]) if document.thumbnail else None

    def get_history_entries(self, document) -> list[str]:
        return list(document_history(document).values_list("id", flat=True))


class DocumentBatchSerializer(serializers.ModelSerializer):
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta:
        model = DocumentBatch
        fields = [
            "id",
            "patient",
            "status",
            "error",
            "created_by",
            "created_at",
            "completed_at",
            "documents",
        ]
        read_only_fields = fields


class DocumentUploadSerializer(serializers.Serializer):
    """multipart/form-data: one or more `files`; together they make one batch."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        error_messages={"empty": "Choose at least one file to upload."},
    )
    note_id = serializers.CharField(required=False, allow_blank=True, max_length=64)


class MedicationSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    dosage = serializers.CharField(required=False, allow_blank=True, max_length=100)
    frequency = serializers.CharField(required=False, allow_blank=True, max_length=100)
    duration = serializers.CharField(required=False, allow_blank=True, max_length=100)


class LabValueSerializer(serializers.Serializer):
    test = serializers.CharField(max_length=200)
    value = serializers.CharField(max_length=100)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=50)


class DocumentReviewSerializer(serializers.Serializer):
    """What a nurse or doctor confirms a document says."""

    visit_date = serializers.DateField(required=False, allow_null=True)
    doctor = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True)
    medications = MedicationSerializer(many=True, required=False)
    diagnoses = serializers.ListField(child=serializers.CharField(max_length=300), required=False)
    lab_values = LabValueSerializer(many=True, required=False)


class MedicalTimelineSerializer(serializers.ModelSerializer):
    class Meta:
        model = MedicalTimeline
        fields = [
            "id",
            "patient",
            "kind",
            "batch_id",
            "generated_at",
            "total_documents",
            "timeline_events",
            "current_medications",
            "chronic_conditions",
            "allergies",
            "summary",
        ]
        read_only_fields = fields
