import django_filters as filters

from clinic.api.views import NestedListViewSet, RecordViewSet
from oncology import services
from oncology.api import serializers
from oncology.models import Episode, Treatment, Tumour
from patients.models import Patient


class EpisodeFilter(filters.FilterSet):
    patient = filters.CharFilter(field_name="patient_id")
    status = filters.ChoiceFilter(field_name="episode_status", choices=Episode.Status.choices)
    cancer_type = filters.CharFilter()
    nhs_number = filters.CharFilter()
    mrn = filters.CharFilter()
    episode_id = filters.CharFilter(field_name="legacy_episode_id")
    referral = filters.DateFromToRangeFilter(field_name="referral_date")

    class Meta:
        model = Episode
        fields = ["patient", "status", "cancer_type", "nhs_number", "mrn", "episode_id", "referral"]


class TreatmentFilter(filters.FilterSet):
    episode = filters.CharFilter(field_name="episode_id")
    patient = filters.CharFilter(field_name="patient_id")
    type = filters.ChoiceFilter(field_name="treatment_type", choices=Treatment.Type.choices)
    intent = filters.ChoiceFilter(field_name="treatment_intent", choices=Treatment.Intent.choices)
    date = filters.DateFromToRangeFilter(field_name="treatment_date")

    class Meta:
        model = Treatment
        fields = ["episode", "patient", "type", "intent", "date"]


class TumourFilter(filters.FilterSet):
    episode = filters.CharFilter(field_name="episode_id")
    patient = filters.CharFilter(field_name="patient_id")
    type = filters.ChoiceFilter(field_name="tumour_type", choices=Tumour.Type.choices)
    icd10_code = filters.CharFilter()
    diagnosis = filters.DateFromToRangeFilter(field_name="diagnosis_date")

    class Meta:
        model = Tumour
        fields = ["episode", "patient", "type", "icd10_code", "diagnosis"]


EPISODE_ORDERING = [
    "referral_date",
    "first_seen_date",
    "mdt_discussion_date",
    "created_at",
    "last_modified_at",
    "episode_status",
    "id",
]
TREATMENT_ORDERING = ["treatment_date", "treatment_type", "position", "id"]
TUMOUR_ORDERING = ["diagnosis_date", "tumour_type", "icd10_code", "position", "id"]


class EpisodeViewSet(RecordViewSet):
    """Cancer episodes, each with a summary of its treatments and tumours."""

    queryset = Episode.objects.all()
    serializer_class = serializers.EpisodeSerializer
    write_serializer_class = serializers.EpisodeWriteSerializer
    filterset_class = EpisodeFilter
    ordering_fields = EPISODE_ORDERING
    ordering = ["-referral_date", "id"]

    def perform_create(self, serializer):
        return services.episode_create(**serializer.validated_data)

    def perform_update(self, serializer):
        services.episode_touch(serializer.instance)
        return serializer.save(last_modified_at=serializer.instance.last_modified_at)


class TreatmentViewSet(RecordViewSet):
    """Treatments given within episodes; `patient` is always the episode's patient."""

    queryset = Treatment.objects.all()
    serializer_class = serializers.TreatmentSerializer
    write_serializer_class = serializers.TreatmentWriteSerializer
    filterset_class = TreatmentFilter
    ordering_fields = TREATMENT_ORDERING
    ordering = ["-treatment_date", "id"]

    def perform_create(self, serializer):
        return services.treatment_create(**serializer.validated_data)


class TumourViewSet(RecordViewSet):
    """Tumours recorded within episodes, with staging and pathology."""

    queryset = Tumour.objects.all()
    serializer_class = serializers.TumourSerializer
    write_serializer_class = serializers.TumourWriteSerializer
    filterset_class = TumourFilter
    ordering_fields = TUMOUR_ORDERING
    ordering = ["-diagnosis_date", "id"]

    def perform_create(self, serializer):
        return services.tumour_create(**serializer.validated_data)


class PatientEpisodeViewSet(NestedListViewSet):
    """One patient's episodes, most recent referral first."""

    parent_model, parent_field = Patient, "patient_id"
    queryset = Episode.objects.all()
    serializer_class = serializers.EpisodeSerializer
    filterset_class = EpisodeFilter
    ordering_fields = EPISODE_ORDERING
    ordering = ["-referral_date", "id"]


class EpisodeTreatmentViewSet(NestedListViewSet):
    """One episode's treatments in the order they were given."""

    parent_model, parent_field = Episode, "episode_id"
    queryset = Treatment.objects.all()
    serializer_class = serializers.TreatmentSerializer
    filterset_class = TreatmentFilter
    ordering_fields = TREATMENT_ORDERING
    ordering = ["treatment_date", "position", "id"]


class EpisodeTumourViewSet(NestedListViewSet):
    """One episode's tumours in the order they were diagnosed."""

    parent_model, parent_field = Episode, "episode_id"
    queryset = Tumour.objects.all()
    serializer_class = serializers.TumourSerializer
    filterset_class = TumourFilter
    ordering_fields = TUMOUR_ORDERING
    ordering = ["diagnosis_date", "position", "id"]
