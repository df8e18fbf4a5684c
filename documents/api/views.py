"""Documents API: list, retrieve, upload (multipart) under the patient, review, checked download."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from clinic.api.exceptions import ErrorSerializer
from clinic.api.views import NestedListViewSet
from documents import selectors, services
from documents.api import serializers
from documents.filetypes import FileRejected
from documents.models import Document, DocumentBatch, MedicalTimeline
from documents.timeline import medical_timeline_get
from patients.models import Patient


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The file is larger than the clinic accepts."


class CanReview(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("documents.review_document")


ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404)}


class DocumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Uploaded documents. Files are fetched through `file/` and `thumbnail/`, which check the
    role and record the access in the audit log; there is no public URL."""

    queryset = Document.objects.all()
    serializer_class = serializers.DocumentSerializer
    filterset_fields = ["patient", "batch", "status", "kind"]
    ordering_fields = ["uploaded_at", "id"]
    ordering = ["-uploaded_at", "id"]

    @extend_schema(responses={(200, "*/*"): OpenApiResponse(description="The file"), **ERRORS})
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        download = request.query_params.get("download") == "1"
        return selectors.document_file_response(
            document=self.get_object(), which="file", attachment=download
        )

    @extend_schema(responses={(200, "image/png"): OpenApiResponse(description="PNG"), **ERRORS})
    @action(detail=True, methods=["get"])
    def thumbnail(self, request, pk=None):
        return selectors.document_file_response(document=self.get_object(), which="thumbnail")

    @extend_schema(
        request=serializers.DocumentReviewSerializer,
        responses={201: serializers.DocumentSerializer, 409: ErrorSerializer, **ERRORS},
    )
    @action(
        detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, CanReview]
    )
    def review(self, request, pk=None):
        """Confirm what the document says: history entries (source=digitizer) linked to it."""
        document = self.get_object()
        data = serializers.DocumentReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.document_review(
            document=document, data=data.validated_data, by=request.user.get_username()
        )
        document.refresh_from_db()
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)


class PatientDocumentViewSet(mixins.CreateModelMixin, NestedListViewSet):
    """One patient's documents; POST (multipart, `files` once or more) uploads one batch."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = Document.objects.all()
    serializer_class = serializers.DocumentSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["batch", "status", "kind"]
    ordering_fields = ["uploaded_at", "id"]
    ordering = ["-uploaded_at", "id"]

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.DocumentUploadSerializer
        return self.serializer_class

    @extend_schema(
        request={"multipart/form-data": serializers.DocumentUploadSerializer},
        responses={201: serializers.DocumentBatchSerializer, 413: ErrorSerializer, **ERRORS},
    )
    def create(self, request, *args, **kwargs):
        patient = get_object_or_404(Patient, pk=kwargs["parent_id"])
        upload = serializers.DocumentUploadSerializer(
            data={
                "files": request.FILES.getlist("files"),
                "note_id": request.data.get("note_id", ""),
            }
        )
        upload.is_valid(raise_exception=True)
        try:
            batch = services.batch_upload(
                patient=patient,
                files=upload.validated_data["files"],
                note_id=upload.validated_data.get("note_id", ""),
                by=request.user.get_username(),
            )
        except FileRejected as rejected:
            if rejected.too_large:
                raise PayloadTooLarge(rejected.messages[0]) from rejected
            raise exceptions.ValidationError({"files": rejected.messages}) from rejected
        return Response(
            serializers.DocumentBatchSerializer(batch).data, status=status.HTTP_201_CREATED
        )


class DocumentBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Documents uploaded together, with their processing status."""

    queryset = DocumentBatch.objects.all()
    serializer_class = serializers.DocumentBatchSerializer
    filterset_fields = ["patient", "status"]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "id"]


class PatientDocumentBatchViewSet(NestedListViewSet):
    parent_model, parent_field = Patient, "patient_id"
    queryset = DocumentBatch.objects.all()
    serializer_class = serializers.DocumentBatchSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "id"]


class MedicalTimelineViewSet(viewsets.ReadOnlyModelViewSet):
    """Medical timelines: clinic's own per patient (kind=clinic) and legacy AI ones (kind=ai)."""

    queryset = MedicalTimeline.objects.all()
    serializer_class = serializers.MedicalTimelineSerializer
    filterset_fields = ["patient", "kind"]
    ordering_fields = ["generated_at", "id"]
    ordering = ["-generated_at", "id"]


class PatientMedicalTimelineViewSet(NestedListViewSet):
    """One patient's timelines, clinic's own brought up to date first."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = MedicalTimeline.objects.all()
    serializer_class = serializers.MedicalTimelineSerializer
    ordering_fields = ["generated_at", "id"]
    ordering = ["-generated_at", "id"]

    def list(self, request, *args, **kwargs):
        if Patient.objects.filter(pk=kwargs["parent_id"]).exists():
            medical_timeline_get(patient_id=kwargs["parent_id"])
        return super().list(request, *args, **kwargs)
