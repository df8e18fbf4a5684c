from clinic.api.views import NestedListViewSet, RecordViewSet
from patients import services
from patients.api import serializers
from patients.api.filters import HistoryEntryFilter, NoteFilter, PatientFilter, QueueEntryFilter
from patients.models import HistoryEntry, Note, Patient
from queue_app.models import QueueEntry

NOTE_ORDERING = ["created_at", "updated_at", "type", "id"]
HISTORY_ORDERING = ["date", "created_at", "type", "id"]


class PatientViewSet(RecordViewSet):
    """Registered patients. `?search=` matches part of a name, a patient ID, UHID or phone."""

    queryset = Patient.objects.all()
    serializer_class = serializers.PatientSerializer
    write_serializer_class = serializers.PatientWriteSerializer
    filterset_class = PatientFilter
    ordering_fields = ["name", "uhid", "age", "created_at", "updated_at", "id"]
    ordering = ["name", "id"]

    def perform_create(self, serializer):
        return services.patient_create(**serializer.validated_data)

    def perform_update(self, serializer):
        return services.patient_update(patient=serializer.instance, **serializer.validated_data)


class NoteViewSet(RecordViewSet):
    """Notes from nurse–patient interactions; `created_by` is the user who wrote it."""

    queryset = Note.objects.all()
    serializer_class = serializers.NoteSerializer
    write_serializer_class = serializers.NoteWriteSerializer
    filterset_class = NoteFilter
    ordering_fields = NOTE_ORDERING
    ordering = ["-created_at", "id"]

    def perform_create(self, serializer):
        return services.note_create(
            created_by=self.request.user.get_username(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        return services.note_update(note=serializer.instance, **serializer.validated_data)


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
