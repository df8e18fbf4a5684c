"""COSD exports over the API.

`GET /cosd/exports/?from=&to=` validates a period and allocates nothing (doctors and the
records role); `POST /cosd/exports/` with `{"from", "to"}` creates a submission when no check
fails (records role and superusers: `oncology.export_cosd`); `GET /cosd/exports/{number}/
download/` returns its XML file (same permission).
"""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.exceptions import ErrorBodySerializer, ErrorSerializer
from clinic.api.serializers import BoundedDateField
from oncology.cosd import CosdChecksFailed, cosd_prepare, cosd_submit, filename, submission_path
from oncology.models import CosdSubmission

EXPORT, VALIDATE = "oncology.export_cosd", "oncology.view_cosdsubmission"

# "from" is a Python keyword, hence the functional form.
PeriodSerializer = type(
    "CosdPeriodSerializer",
    (serializers.Serializer,),
    {
        "from": BoundedDateField(),
        "to": BoundedDateField(),
        "validate": lambda self, data: _ordered(data),
    },
)


def _ordered(data):
    if data["to"] < data["from"]:
        raise serializers.ValidationError({"to": ["The period must end on or after its start."]})
    return data


class ChecksSerializer(serializers.Serializer):
    record_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField())
    completeness = serializers.ListField(child=serializers.DictField())


class ValidationResultSerializer(serializers.Serializer):
    filename = serializers.CharField(help_text="The file name a submission would get (preview).")
    can_submit = serializers.BooleanField()
    checks = ChecksSerializer()


class SubmissionSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = CosdSubmission
        fields = [
            "number",
            "period_start",
            "period_end",
            "created_at",
            "record_count",
            "filename",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, submission) -> str:
        path = reverse("cosd-export-download", args=[submission.number])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class SubmissionResultSerializer(serializers.Serializer):
    submission = SubmissionSerializer()
    checks = ChecksSerializer()


class ChecksFailedSerializer(serializers.Serializer):
    error = ErrorBodySerializer()
    checks = ChecksSerializer()


class HasPerm(permissions.BasePermission):
    """GET needs `read`, anything else `write` (set on the view)."""

    def has_permission(self, request, view):
        needed = view.read_perms if request.method in permissions.SAFE_METHODS else view.write_perms
        return any(request.user.has_perm(perm) for perm in needed)


class CosdExportView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasPerm]
    read_perms, write_perms = (VALIDATE, EXPORT), (EXPORT,)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, required=True, description="First day, ISO."),
            OpenApiParameter("to", str, required=True, description="Last day, ISO."),
        ],
        responses={200: ValidationResultSerializer, 400: ErrorSerializer},
        operation_id="cosd_exports_validate",
    )
    def get(self, request):
        """Run the pre-submission checks for a period; nothing is written or allocated."""
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        export = cosd_prepare(
            period_start=period.validated_data["from"], period_end=period.validated_data["to"]
        )
        return Response(
            {
                "filename": filename(export.header),
                "can_submit": not export.report.errors,
                "checks": export.report.as_dict(),
            }
        )

    @extend_schema(
        request=PeriodSerializer,
        responses={
            201: SubmissionResultSerializer,
            400: ErrorSerializer,
            422: OpenApiResponse(ChecksFailedSerializer, "Errors in the checks block it."),
        },
        operation_id="cosd_exports_create",
    )
    def post(self, request):
        """Create the period's submission (next number, XML file) unless a check fails (422)."""
        period = PeriodSerializer(data=request.data)
        period.is_valid(raise_exception=True)
        try:
            submission, export = cosd_submit(
                period_start=period.validated_data["from"],
                period_end=period.validated_data["to"],
                by=request.user,
            )
        except CosdChecksFailed as failed:
            report = failed.export.report
            body = {"code": "checks_failed", "message": str(failed), "fields": {}}
            return Response(
                {"error": body, "checks": report.as_dict()},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        data = {
            "submission": SubmissionSerializer(submission, context={"request": request}).data,
            "checks": export.report.as_dict(),
        }
        return Response(data, status=status.HTTP_201_CREATED)


class CosdDownloadView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasPerm]
    read_perms = write_perms = (EXPORT,)

    @extend_schema(
        responses={(200, "application/xml"): bytes}, operation_id="cosd_exports_download"
    )
    def get(self, request, number: int):
        """The submission's XML file, as sent."""
        submission = get_object_or_404(CosdSubmission, pk=number)
        path = submission_path(submission)
        if path is None:
            raise Http404
        return FileResponse(
            open(path, "rb"),
            as_attachment=True,
            filename=submission.filename,
            content_type="application/xml",
        )
