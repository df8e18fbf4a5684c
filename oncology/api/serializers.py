from rest_framework import serializers

from clinic.api.serializers import choice_error, ref
from oncology.models import Episode, Treatment, Tumour
from oncology.selectors import episode_get
from patients.models import Patient

NHS_NUMBER = "An NHS number is 10 digits."


class TreatmentSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Treatment
        fields = ["id", "treatment_type", "treatment_date", "treatment_intent"]
        read_only_fields = fields


class TumourSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Tumour
        fields = ["id", "tumour_type", "site", "icd10_code", "diagnosis_date"]
        read_only_fields = fields


def attach_children(episodes: list[Episode]) -> None:
    """Load the treatments and tumours of a page of episodes in one query per table."""
    by_id = {episode.pk: episode for episode in episodes}
    for episode in episodes:
        episode.treatment_rows, episode.tumour_rows = [], []
    treatments = Treatment.objects.filter(episode_id__in=by_id).only(
        "episode_id", *TreatmentSummarySerializer.Meta.fields
    )
    for treatment in treatments.order_by("episode_id", "treatment_date", "position", "id"):
        by_id[treatment.episode_id].treatment_rows.append(treatment)
    tumours = Tumour.objects.filter(episode_id__in=by_id).only(
        "episode_id", *TumourSummarySerializer.Meta.fields
    )
    for tumour in tumours.order_by("episode_id", "diagnosis_date", "position", "id"):
        by_id[tumour.episode_id].tumour_rows.append(tumour)


class EpisodeListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        episodes = list(data.all() if hasattr(data, "all") else data)
        attach_children(episodes)
        return super().to_representation(episodes)


class EpisodeSerializer(serializers.ModelSerializer):
    """An episode with its treatments and tumours from their own tables.

    The legacy embedded arrays are not shown: after `split_embedded` they are empty, and
    before it they are raw legacy data.
    """

    treatments = TreatmentSummarySerializer(many=True, read_only=True, source="treatment_rows")
    tumours = TumourSummarySerializer(many=True, read_only=True, source="tumour_rows")

    class Meta:
        model = Episode
        list_serializer_class = EpisodeListSerializer
        fields = [
            "id",
            "patient",
            "mrn",
            "nhs_number",
            "condition_type",
            "cancer_type",
            "referral_date",
            "first_seen_date",
            "mdt_discussion_date",
            "lead_clinician",
            "episode_status",
            "created_at",
            "last_modified_at",
            "treatments",
            "tumours",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        if not hasattr(instance, "treatment_rows"):
            attach_children([instance])
        return super().to_representation(instance)


class EpisodeWriteSerializer(serializers.ModelSerializer):
    patient = ref(Patient, "patient", "PAT_72D90B86")
    nhs_number = serializers.RegexField(
        r"^\d{10}$", required=False, allow_blank=True, error_messages={"invalid": NHS_NUMBER}
    )
    episode_status = serializers.ChoiceField(
        choices=Episode.Status.choices,
        required=False,
        error_messages=choice_error("Episode status", Episode.Status.choices),
    )

    class Meta:
        model = Episode
        fields = [
            "patient",
            "mrn",
            "nhs_number",
            "condition_type",
            "cancer_type",
            "referral_date",
            "first_seen_date",
            "mdt_discussion_date",
            "lead_clinician",
            "episode_status",
        ]

    def validate_patient(self, patient):
        if self.instance is not None and patient.pk != self.instance.patient_id:
            raise serializers.ValidationError("An episode stays with its patient.")
        return patient

    def validate(self, attrs):
        if self.instance is None and not attrs.get("mrn"):
            attrs["mrn"] = attrs["patient"].uhid or attrs["patient"].pk
        return attrs


class EpisodeRef(serializers.PrimaryKeyRelatedField):
    """An episode by its ID or by the oncology system's own `episode_id` (`EPI-…`)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data:
            try:
                return episode_get(ref=data)
            except Episode.DoesNotExist:
                pass
        return super().to_internal_value(data)


class EpisodeChildWriteSerializer(serializers.ModelSerializer):
    """Treatments and tumours belong to one episode and to that episode's patient."""

    episode = EpisodeRef(
        queryset=Episode.objects.all(),
        error_messages=ref(Episode, "episode", "6761b2f0c2a4e5d1f0a1b2c3").error_messages,
    )
    # Left out, it is taken from the episode.
    patient = ref(Patient, "patient", "PAT_72D90B86", required=False)

    def validate(self, attrs):
        episode = attrs.get("episode", getattr(self.instance, "episode", None))
        if self.instance is not None and episode.pk != self.instance.episode_id:
            raise serializers.ValidationError({"episode": ["This record stays with its episode."]})
        patient = attrs.get("patient")
        if patient is not None and patient.pk != episode.patient_id:
            raise serializers.ValidationError(
                {
                    "patient": [
                        f"Episode {episode.pk} belongs to patient {episode.patient_id}, "
                        f"not {patient.pk}."
                    ]
                }
            )
        attrs["patient"] = episode.patient
        return attrs


TREATMENT_FIELDS = [
    "episode",
    "patient",
    "treatment_type",
    "treatment_date",
    "treatment_intent",
    "provider_organisation",
    "opcs4_code",
    "surgical_access_type",
    "surgical_urgency_type",
    "asa_grade",
    "regimen",
    "cycles",
    "dose_gy",
    "fractions",
]


class TreatmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Treatment
        fields = ["id", *TREATMENT_FIELDS, "position"]
        read_only_fields = fields


class TreatmentWriteSerializer(EpisodeChildWriteSerializer):
    treatment_type = serializers.ChoiceField(
        choices=Treatment.Type.choices,
        error_messages=choice_error("Treatment type", Treatment.Type.choices),
    )
    treatment_intent = serializers.ChoiceField(
        choices=Treatment.Intent.choices,
        required=False,
        allow_blank=True,
        error_messages=choice_error("Treatment intent", Treatment.Intent.choices),
    )
    asa_grade = serializers.IntegerField(
        min_value=1,
        max_value=6,
        required=False,
        allow_null=True,
        error_messages={
            key: "ASA grade is a whole number from 1 to 6."
            for key in ("invalid", "min_value", "max_value")
        },
    )
    dose_gy = serializers.FloatField(min_value=0, required=False, allow_null=True)

    class Meta:
        model = Treatment
        fields = TREATMENT_FIELDS


TUMOUR_FIELDS = [
    "episode",
    "patient",
    "tumour_type",
    "site",
    "icd10_code",
    "snomed_morphology_code",
    "tnm_staging",
    "pathology",
    "diagnosis_date",
]


class TumourSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tumour
        fields = ["id", *TUMOUR_FIELDS, "position"]
        read_only_fields = fields


class TumourWriteSerializer(EpisodeChildWriteSerializer):
    tumour_type = serializers.ChoiceField(
        choices=Tumour.Type.choices,
        error_messages=choice_error("Tumour type", Tumour.Type.choices),
    )
    icd10_code = serializers.RegexField(
        r"^[A-Z]\d{2}(\.\d{1,2})?$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "An ICD-10 code looks like C18.7."},
    )
    tnm_staging = serializers.DictField(
        required=False,
        error_messages={
            "not_a_dict": "TNM staging is an object: t_stage, n_stage, m_stage, tnm_version."
        },
    )
    pathology = serializers.DictField(
        required=False,
        error_messages={
            "not_a_dict": "Pathology is an object: lymph_nodes_examined, "
            "lymph_nodes_positive, crm_status, grade, …"
        },
    )

    class Meta:
        model = Tumour
        fields = TUMOUR_FIELDS
