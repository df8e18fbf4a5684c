from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.api.exceptions import ErrorSerializer
from clinic.api.views import NestedListViewSet, RecordViewSet
from patients import merge, services
from patients.api import serializers
from patients.api.filters import HistoryEntryFilter, NoteFilter, PatientFilter, QueueEntryFilter
from patients.models import Allergy, HistoryEntry, Note, NoteAmendment, Patient
from patients.selectors import patient_resolve
from queue_app.models import QueueEntry

NOTE_ORDERING = ["created_at", "updated_at", "type", "id"]
HISTORY_ORDERING = ["date", "created_at", "type", "id"]


class CanMerge(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("patients.merge_patient")


class DuplicatesSerializer(ErrorSerializer):
    candidates = serializers.PatientSerializer(many=True)


class PatientViewSet(RecordViewSet):
    """Registered patients. `?search=` matches part of a name, a patient ID, UHID or phone."""

    queryset = Patient.objects.all()
    serializer_class = serializers.PatientSerializer
    write_serializer_class = serializers.PatientWriteSerializer
    filterset_class = PatientFilter
    ordering_fields = ["name", "uhid", "age", "created_at", "updated_at", "id"]
    ordering = ["name", "id"]

    def get_object(self):
        # A merged-away ID keeps leading to the record that was kept.
        patient = super().get_object()
        if patient.merged_into_id and self.action == "retrieve":
            patient = patient_resolve(patient.pk)
        return patient

    @extend_schema(responses={201: serializers.PatientSerializer, 409: DuplicatesSerializer})
    def create(self, request, *args, **kwargs):
        try:
            return super().create(request, *args, **kwargs)
        except services.LikelyDuplicate as exc:
            candidates = serializers.PatientSerializer(exc.candidates, many=True).data
            message = (
                f"{len(candidates)} registered patient(s) look like this one; check them, "
                "then send confirm_new: true to register a new patient anyway."
            )
            body = {"error": {"code": "likely_duplicate", "message": message, "fields": {}}}
            return Response({**body, "candidates": candidates}, status=status.HTTP_409_CONFLICT)

    def perform_create(self, serializer):
        return services.patient_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "confirm_new"}
        return services.patient_update(patient=serializer.instance, **data)

    @extend_schema(
        request=serializers.PatientMergeSerializer,
        responses={200: serializers.PatientSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMerge])
    def merge(self, request, pk=None):
        """Merge this (duplicate) record into `into`; answers with the kept record."""
        duplicate = super().get_object()
        body = serializers.PatientMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kept = body.validated_data["into"]
        merge.patient_merge(kept=kept, merged=duplicate, by=request.user.get_username())
        return self._answer(kept, status.HTTP_200_OK)

    @extend_schema(
        request=None,
        responses={200: serializers.PatientSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMerge])
    def unmerge(self, request, pk=None):
        """Undo this record's merge exactly: what moved comes back; answers with this record."""
        duplicate = super().get_object()
        merge.patient_unmerge(merged=duplicate, by=request.user.get_username())
        duplicate.refresh_from_db()
        return self._answer(duplicate, status.HTTP_200_OK)


class NoteViewSet(RecordViewSet):
    """Notes from nurse–patient interactions; `created_by` is the user who wrote it."""

    queryset = Note.objects.all()
    serializer_class = serializers.NoteSerializer
    write_serializer_class = serializers.NoteWriteSerializer
    filterset_class = NoteFilter
    ordering_fields = NOTE_ORDERING
    ordering = ["-created_at", "id"]

    def perform_update(self, serializer):
        """A saved note is signed: a change is an amendment that keeps the note as it was."""
        changes = dict(serializer.validated_data)
        reason = changes.pop("reason", "")
        changes.pop("patient", None)
        return services.note_amend(
            note_id=serializer.instance.pk,
            changes=changes,
            reason=reason,
            by=self.request.user.get_username(),
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        return services.note_create(created_by=self.request.user.get_username(), **data)

    @extend_schema(responses=serializers.NoteAmendmentSerializer(many=True))
    @action(detail=True, methods=["get"])
    def amendments(self, request, pk=None):
        """Every change to the note, oldest first, each with the content as it was before."""
        note = self.get_object()
        rows = NoteAmendment.objects.filter(note_id=note.pk).order_by("amended_at", "id")
        return Response(serializers.NoteAmendmentSerializer(rows, many=True).data)


class HistoryEntryViewSet(RecordViewSet):
    """Medical history: prescriptions, diagnoses, visits and lab results."""

    queryset = HistoryEntry.objects.all()
    serializer_class = serializers.HistoryEntrySerializer
    write_serializer_class = serializers.HistoryEntryWriteSerializer
    filterset_class = HistoryEntryFilter
    ordering_fields = HISTORY_ORDERING
    ordering = ["-date", "id"]

    def perform_create(self, serializer):
        return services.history_create(**serializer.validated_data)

    def perform_update(self, serializer):
        return services.history_update(entry=serializer.instance, **serializer.validated_data)


class PatientNoteViewSet(NestedListViewSet):
    """One patient's notes, newest first."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = Note.objects.all()
    serializer_class = serializers.NoteSerializer
    filterset_class = NoteFilter
    ordering_fields = NOTE_ORDERING
    ordering = ["-created_at", "id"]


class PatientHistoryViewSet(NestedListViewSet):
    """One patient's history, most recent first."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = HistoryEntry.objects.all()
    serializer_class = serializers.HistoryEntrySerializer
    filterset_class = HistoryEntryFilter
    ordering_fields = HISTORY_ORDERING
    ordering = ["-date", "id"]


class PatientQueueEntryViewSet(NestedListViewSet):
    """One patient's visits to the queue, most recent first."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = QueueEntry.objects.all()
    serializer_class = serializers.QueueEntrySummarySerializer
    filterset_class = QueueEntryFilter
    ordering_fields = ["day", "added_at", "token_number", "status", "id"]
    ordering = ["-added_at", "id"]


class AllergyViewSet(RecordViewSet):
    """Patients' allergies: what they react to, how, how badly."""

    queryset = Allergy.objects.all()
    serializer_class = serializers.AllergySerializer
    write_serializer_class = serializers.AllergyWriteSerializer
    ordering_fields = ["substance", "recorded_at", "id"]
    ordering = ["patient", "substance", "id"]

    def perform_create(self, serializer):
        return services.allergy_create(
            recorded_by=self.request.user.get_username(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("patient", None)
        return services.allergy_update(allergy=serializer.instance, **data)


class PatientAllergyViewSet(NestedListViewSet):
    """One patient's allergies."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = Allergy.objects.all()
    serializer_class = serializers.AllergySerializer
    ordering_fields = ["substance", "recorded_at", "id"]
    ordering = ["substance", "id"]
