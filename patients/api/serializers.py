from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from clinic.api.serializers import choice_error, ref
from patients.models import HistoryEntry, Note, Patient, digits_only
from queue_app.models import QueueEntry

AGE_RANGE = "Age must be a whole number between 0 and 130."
SOAP_PARTS = ("subjective", "objective", "assessment", "plan")


class StaysWithPatientMixin:
    """A record written for one patient is never moved to another through an edit."""

    def validate_patient(self, patient):
        if self.instance is not None and patient.pk != self.instance.patient_id:
            raise serializers.ValidationError(
                "This record belongs to another patient; write a new one for this patient."
            )
        return patient


class GenderField(serializers.ChoiceField):
    """M/F/O, or male/female/other in any case, as staff type them."""

    WORDS = {"male": "M", "female": "F", "other": "O"}

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = self.WORDS.get(data.strip().lower(), data.strip().upper())
        return super().to_internal_value(data)


class PatientSerializer(serializers.ModelSerializer):
    # Blank is a stored value (gender not given); the schema's enum must list it too.
    gender = serializers.ChoiceField(
        choices=Patient.Gender.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Patient
        fields = ["id", "uhid", "name", "age", "gender", "phone", "created_at", "updated_at"]
        read_only_fields = fields


class PatientWriteSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        max_length=200,
        error_messages={
            "required": "Enter the patient's name.",
            "blank": "Enter the patient's name.",
            "null": "Enter the patient's name.",
        },
    )
    uhid = serializers.CharField(
        max_length=32,
        required=False,
        allow_null=True,
        allow_blank=True,
        validators=[
            digits_only,
            UniqueValidator(
                Patient.objects.all(), message="Another patient already has this UHID."
            ),
        ],
    )
    age = serializers.IntegerField(
        min_value=0,
        max_value=130,
        required=False,
        allow_null=True,
        error_messages={"invalid": AGE_RANGE, "min_value": AGE_RANGE, "max_value": AGE_RANGE},
    )
    gender = GenderField(
        choices=Patient.Gender.choices,
        required=False,
        allow_blank=True,
        error_messages={"invalid_choice": "Gender must be M (male), F (female) or O (other)."},
    )
    phone = serializers.RegexField(
        r"^\+?[\d\s\-()]*$",
        max_length=32,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid": "A phone number has digits, spaces or dashes, and may start with +."
        },
    )

    class Meta:
        model = Patient
        fields = ["uhid", "name", "age", "gender", "phone"]

    def validate_uhid(self, uhid):
        return uhid or None


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = [
            "id",
            "patient",
            "type",
            "content",
            "audio_file_url",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class NoteWriteSerializer(StaysWithPatientMixin, serializers.ModelSerializer):
    patient = ref(Patient, "patient", "PAT_72D90B86")
    type = serializers.ChoiceField(
        choices=Note.Type.choices,
        required=False,
        error_messages=choice_error("Note type", Note.Type.choices),
    )
    content = serializers.JSONField(required=False)

    class Meta:
        model = Note
        fields = ["patient", "type", "content", "audio_file_url"]

    def validate(self, attrs):
        note_type = attrs.get("type", getattr(self.instance, "type", Note.Type.SOAP))
        content = attrs.get("content", getattr(self.instance, "content", {}))
        if note_type == Note.Type.SOAP and not (
            isinstance(content, dict)
            and all(isinstance(content.get(part, ""), str | None) for part in SOAP_PARTS)
        ):
            raise serializers.ValidationError(
                {
                    "content": [
                        "A SOAP note's content is an object with text for subjective, objective, "
                        "assessment and plan."
                    ]
                }
            )
        if not isinstance(content, dict | str):
            raise serializers.ValidationError(
                {"content": ["A note's content is text or an object."]}
            )
        return attrs


class HistoryEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = HistoryEntry
        fields = [
            "id",
            "patient",
            "type",
            "date",
            "content",
            "source",
            "document_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class HistoryEntryWriteSerializer(StaysWithPatientMixin, serializers.ModelSerializer):
    patient = ref(Patient, "patient", "PAT_72D90B86")
    type = serializers.ChoiceField(
        choices=HistoryEntry.Type.choices,
        error_messages={
            "required": "Say what kind of history this is (prescription, diagnosis, visit or "
            "lab_result).",
            **choice_error("History type", HistoryEntry.Type.choices),
        },
    )
    source = serializers.ChoiceField(
        choices=HistoryEntry.Source.choices,
        required=False,
        allow_blank=True,
        error_messages=choice_error("Source", HistoryEntry.Source.choices),
    )
    content = serializers.DictField(
        required=False,
        error_messages={
            "not_a_dict": "Content is an object: medications, diagnoses, doctor, notes, …"
        },
    )

    class Meta:
        model = HistoryEntry
        fields = ["patient", "type", "date", "content", "source", "document_id"]


class QueueEntrySummarySerializer(serializers.ModelSerializer):
    """A patient's visits to the queue, read-only; the queue API has the full entry."""

    class Meta:
        model = QueueEntry
        fields = ["id", "token_number", "day", "status", "priority", "added_at", "completed_at"]
        read_only_fields = fields
