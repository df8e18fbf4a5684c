"""`GET /patients/{id}/timeline/`: one chronological list of what the caller's role may see."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oncology.timeline import KIND_ORDER, patient_timeline
from patients.models import Patient


class TimelineFactSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    kind = serializers.ChoiceField(choices=KIND_ORDER)
    source = serializers.CharField(help_text="app_label.model of the record behind the entry.")
    object_id = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    facts = serializers.SerializerMethodField(
        help_text="Labelled facts: a note's chief complaint, medications, language and "
        "transcript; an AI timeline summary's counts and batch."
    )

    @extend_schema_field(TimelineFactSerializer(many=True))
    def get_facts(self, entry) -> list[dict[str, str]]:
        return [{"label": label, "value": value} for label, value in entry.facts]


class PatientTimelineSerializer(serializers.Serializer):
    patient = serializers.CharField()
    results = TimelineEntrySerializer(many=True)


class CanViewPatients(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("patients.view_patient")


class PatientTimelineView(APIView):
    """A patient's episodes, diagnoses, treatments, history, notes and visits, oldest first.

    Entries from sources the role may not view are left out (a nurse gets no oncology items);
    entries without a date come last.
    """

    permission_classes = [permissions.IsAuthenticated, CanViewPatients]

    @extend_schema(responses=PatientTimelineSerializer, operation_id="patients_timeline")
    def get(self, request, patient_id: str):
        patient = get_object_or_404(Patient.objects.only("id"), pk=patient_id)
        entries = patient_timeline(patient_id=patient.pk, user=request.user)
        return Response(
            {"patient": patient.pk, "results": TimelineEntrySerializer(entries, many=True).data}
        )
