import django_filters as filters

from patients.models import HistoryEntry, Note, Patient
from patients.selectors import patient_search
from queue_app.models import QueueEntry


class PatientFilter(filters.FilterSet):
    search = filters.CharFilter(
        method="filter_search", label="Name (part of it), patient ID, UHID or phone number."
    )
    uhid = filters.CharFilter()
    gender = filters.ChoiceFilter(choices=Patient.Gender.choices)
    created = filters.DateFromToRangeFilter(field_name="created_at")
    updated = filters.DateFromToRangeFilter(field_name="updated_at")

    class Meta:
        model = Patient
        fields = ["search", "uhid", "gender", "created", "updated"]

    def filter_search(self, queryset, name, value):
        return patient_search(queryset, value)


class NoteFilter(filters.FilterSet):
    # A plain ID filter: no lookup to validate it, an unknown patient just matches nothing.
    patient = filters.CharFilter(field_name="patient_id")
    type = filters.ChoiceFilter(choices=Note.Type.choices)
    created = filters.DateFromToRangeFilter(field_name="created_at")
    created_by = filters.CharFilter()

    class Meta:
        model = Note
        fields = ["patient", "type", "created", "created_by"]


class HistoryEntryFilter(filters.FilterSet):
    patient = filters.CharFilter(field_name="patient_id")
    type = filters.ChoiceFilter(choices=HistoryEntry.Type.choices)
    source = filters.ChoiceFilter(choices=HistoryEntry.Source.choices)
    date = filters.DateFromToRangeFilter()
    document_id = filters.CharFilter()

    class Meta:
        model = HistoryEntry
        fields = ["patient", "type", "source", "date", "document_id"]


class QueueEntryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=QueueEntry.Status.choices)
    priority = filters.ChoiceFilter(choices=QueueEntry.Priority.choices)
    day = filters.DateFromToRangeFilter()

    class Meta:
        model = QueueEntry
        fields = ["status", "priority", "day"]
