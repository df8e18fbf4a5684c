from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.api.serializers import choice_error, ref
from patients import clinical, phones
from patients.models import Allergy, HistoryEntry, Note, NoteAmendment, Patient, validate_uhid
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
    # A patient imported without a recorded name reads "(no name recorded) MRN …", never "".
    name = serializers.CharField(source="display_name", read_only=True)
    age = serializers.IntegerField(
        source="current_age", read_only=True, allow_null=True, help_text="From the date of birth."
    )
    phone = serializers.CharField(read_only=True, help_text="E.164, e.g. +919876543210.")
    # Blank is a stored value (gender not given); the schema's enum must list it too.
    gender = serializers.ChoiceField(
        choices=Patient.Gender.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "uhid",
            "name",
            "age",
            "date_of_birth",
            "date_of_birth_estimated",
            "gender",
            "phone",
            "nhs_number",
            "merged_into",
            "created_at",
            "updated_at",
        ]
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
        validators=[validate_uhid],
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
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(
        required=False,
        allow_null=True,
        error_messages={"invalid": "Give the date of birth as YYYY-MM-DD."},
    )
    nhs_number = serializers.RegexField(
        r"^\d{10}$",
        required=False,
        allow_null=True,
        allow_blank=True,
        error_messages={"invalid": "An NHS number is 10 digits."},
    )
    confirm_new = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="Register even though likely duplicates were found (a 409 lists them).",
    )

    class Meta:
        model = Patient
        fields = [
            "uhid",
            "name",
            "age",
            "date_of_birth",
            "gender",
            "phone",
            "nhs_number",
            "confirm_new",
        ]

    def _held_by_another(self, field: str, value, message: str):
        # A new registration with a UHID or NHS number already held is answered by the duplicate
        # check (409, with that patient); an edit that would take another's number is refused.
        if value and self.instance is not None:
            others = Patient.objects.filter(**{field: value}).exclude(pk=self.instance.pk)
            if others.exists():
                raise serializers.ValidationError(message)
        return value or None

    def validate_uhid(self, uhid):
        return self._held_by_another("uhid", uhid, "Another patient already has this UHID.")

    def validate_nhs_number(self, nhs_number):
        return self._held_by_another(
            "nhs_number", nhs_number, "Another patient already has this NHS number."
        )

    def validate_phone(self, phone):
        try:
            return phones.normalise(phone)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class PatientMergeSerializer(serializers.Serializer):
    into = ref(Patient, "patient", "PAT_72D90B86", help_text="The record to keep.")


def _content(obj) -> dict:
    return obj.content if isinstance(obj.content, dict) else {}


class NoteSerializer(serializers.ModelSerializer):
    chief_complaint = serializers.SerializerMethodField(
        help_text="From a SOAP note's content (the OPD system's notes carry one)."
    )
    medications = serializers.SerializerMethodField(help_text="From a SOAP note's content.")

    class Meta:
        model = Note
        fields = [
            "id",
            "patient",
            "type",
            "content",
            "chief_complaint",
            "medications",
            "language",
            "transcript",
            "audio_file_url",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_chief_complaint(self, obj) -> str:
        return str(_content(obj).get("chief_complaint") or "")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_medications(self, obj):
        value = _content(obj).get("medications") or []
        return [str(m) for m in value] if isinstance(value, list) else [str(value)]


class NoteWriteSerializer(StaysWithPatientMixin, serializers.ModelSerializer):
    patient = ref(Patient, "patient", "PAT_72D90B86")
    type = serializers.ChoiceField(
        choices=Note.Type.choices,
        required=False,
        error_messages=choice_error("Note type", Note.Type.choices),
    )
    content = serializers.JSONField(required=False)
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why a saved (signed) note is changed; required on PUT/PATCH.",
    )

    class Meta:
        model = Note
        fields = [
            "patient", "type", "content", "audio_file_url", "language", "transcript", "reason",
        ]  # fmt: skip

    def validate(self, attrs):
        if self.instance is not None and not (attrs.get("reason") or "").strip():
            raise serializers.ValidationError(
                {"reason": ["Say why you are changing this signed note (an amendment)."]}
            )
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
    summary = serializers.SerializerMethodField(
        help_text="An AI timeline summary's text (type comprehensive_timeline); else empty."
    )

    class Meta:
        model = HistoryEntry
        fields = [
            "id",
            "patient",
            "type",
            "date",
            "summary",
            "content",
            "source",
            "document_id",
            "batch_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_summary(self, obj) -> str:
        if obj.type != HistoryEntry.Type.TIMELINE_SUMMARY:
            return ""
        return str(_content(obj).get("summary") or "")


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
        fields = ["patient", "type", "date", "content", "source", "document_id", "batch_id"]

    def validate_content(self, content):
        try:
            return clinical.validate_history_content(content)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class NoteAmendmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoteAmendment
        fields = ["id", "note", "amended_by", "amended_at", "reason", "previous_type",
                  "previous_content"]  # fmt: skip
        read_only_fields = fields


class AllergySerializer(serializers.ModelSerializer):
    class Meta:
        model = Allergy
        fields = ["id", "patient", "substance", "reaction", "severity", "recorded_by",
                  "recorded_at"]  # fmt: skip
        read_only_fields = fields


class AllergyWriteSerializer(StaysWithPatientMixin, serializers.ModelSerializer):
    patient = ref(Patient, "patient", "PAT_72D90B86")
    severity = serializers.ChoiceField(
        choices=Allergy.Severity.choices,
        required=False,
        allow_blank=True,
        error_messages=choice_error("Severity", Allergy.Severity.choices),
    )

    class Meta:
        model = Allergy
        fields = ["patient", "substance", "reaction", "severity"]


class QueueEntrySummarySerializer(serializers.ModelSerializer):
    """A patient's visits to the queue, read-only; the queue API has the full entry."""

    class Meta:
        model = QueueEntry
        fields = ["id", "token_number", "day", "status", "priority", "added_at", "completed_at"]
        read_only_fields = fields
