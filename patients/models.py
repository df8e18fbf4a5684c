import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from clinic import ids


def validate_uhid(value: str) -> None:
    """A UHID is the hospital's own number; `UHID_PATTERN` lets a hospital enforce its format."""
    if not re.fullmatch(settings.UHID_PATTERN, value or ""):
        raise ValidationError(
            "A UHID is the hospital number: letters, digits, '-' and '/' "
            "(for example IW000123 or MH/2024/0012).",
            code="uhid",
        )


class Patient(models.Model):
    """A registered patient; `id` is the domain ID staff see (`PAT_72D90B86`)."""

    class Gender(models.TextChoices):
        MALE = "M", "Male"
        FEMALE = "F", "Female"
        OTHER = "O", "Other"

    id = models.CharField("patient ID", primary_key=True, max_length=40, default=ids.new_patient_id)
    uhid = models.CharField(
        "UHID", max_length=32, unique=True, null=True, blank=True, validators=[validate_uhid]
    )
    name = models.CharField(max_length=200)
    age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130, "Age must be between 0 and 130.")]
    )
    date_of_birth = models.DateField(null=True, blank=True)
    date_of_birth_estimated = models.BooleanField(
        default=False, help_text="Derived from a stated age, not a recorded date of birth."
    )
    gender = models.CharField(max_length=1, choices=Gender, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    nhs_number = models.CharField("NHS number", max_length=10, unique=True, null=True, blank=True)
    ethnicity = models.CharField(
        max_length=2, blank=True, help_text="NHS ethnic category code (A–Z, 99 not known)."
    )
    postcode = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Legacy fields we do not model, kept for export."
    )

    class Meta:
        ordering = ["name", "id"]
        # (name, id) matches the ordering, so the admin and API page through names on the index.
        indexes = [models.Index(fields=["name", "id"]), models.Index(fields=["phone"])]
        permissions = [
            ("import_legacy", "Can import legacy JSON files"),
            ("export_legacy", "Can export data in the legacy formats"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uhid or self.id})"

    def clean(self):
        if not (self.name or "").strip():
            raise ValidationError({"name": "Enter the patient's name."})


class Note(models.Model):
    """A note written during a nurse–patient interaction (SOAP, transcription or free text)."""

    class Type(models.TextChoices):
        SOAP = "SOAP", "SOAP note"
        AUDIO_TRANSCRIPTION = "audio_transcription", "Audio transcription"
        MANUAL = "manual", "Manual note"

    id = models.CharField("note ID", primary_key=True, max_length=40, default=ids.new_note_id)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    type = models.CharField(max_length=32, choices=Type, default=Type.SOAP)
    content = models.JSONField(
        default=dict, blank=True, help_text="SOAP: subjective, objective, assessment, plan."
    )
    audio_file_url = models.CharField(max_length=500, blank=True)
    transcript = models.TextField(blank=True, help_text="The recording's text, as transcribed.")
    language = models.CharField(max_length=16, blank=True, help_text="en, hi, mixed, …")
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["patient", "created_at"]), models.Index(fields=["type"])]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.id}"


class HistoryEntry(models.Model):
    """One item of a patient's medical history: a prescription, diagnosis, visit or lab result."""

    class Type(models.TextChoices):
        PRESCRIPTION = "prescription", "Prescription"
        DIAGNOSIS = "diagnosis", "Diagnosis"
        VISIT = "visit", "Visit"
        LAB_RESULT = "lab_result", "Lab result"
        TIMELINE_SUMMARY = "comprehensive_timeline", "AI timeline summary"

    class Source(models.TextChoices):
        DIGITIZER = "digitizer", "Digitizer"
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"

    id = models.CharField("history ID", primary_key=True, max_length=40, default=ids.new_history_id)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="history")
    type = models.CharField(max_length=32, choices=Type)
    date = models.DateTimeField(null=True, blank=True, help_text="When it happened.")
    content = models.JSONField(
        default=dict, blank=True, help_text="medications, diagnoses, doctor, notes, …"
    )
    source = models.CharField(max_length=32, choices=Source, blank=True)
    document_id = models.CharField(max_length=64, blank=True)
    batch_id = models.CharField(max_length=64, blank=True, help_text="Document batch summarised.")
    created_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-date", "id"]
        verbose_name_plural = "history entries"
        indexes = [models.Index(fields=["patient", "date"]), models.Index(fields=["type"])]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.id}"


class Allergy(models.Model):
    """Something the patient reacts to: a drug, a food, or anything else staff must know."""

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "", "Not known"

    id = models.CharField("allergy ID", primary_key=True, max_length=40, default=ids.new_allergy_id)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=200, help_text="e.g. Penicillin, peanuts, latex.")
    reaction = models.CharField(max_length=200, blank=True, help_text="e.g. rash, anaphylaxis.")
    severity = models.CharField(max_length=16, choices=Severity, blank=True)
    recorded_by = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["patient", "substance", "id"]
        verbose_name_plural = "allergies"
        indexes = [models.Index(fields=["patient", "substance"])]

    def __str__(self) -> str:
        return f"{self.substance} ({self.get_severity_display().lower()})"

    def clean(self):
        if not (self.substance or "").strip():
            raise ValidationError({"substance": "Say what the patient is allergic to."})


class NoteAmendment(models.Model):
    """A change to a signed note: who, when, why, and the content as it was before."""

    id = models.CharField(
        "amendment ID", primary_key=True, max_length=40, default=ids.new_amendment_id
    )
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="amendments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    previous_type = models.CharField(max_length=32, choices=Note.Type)
    previous_content = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500)
    amended_by = models.CharField(max_length=150)
    amended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["note", "amended_at", "id"]
        indexes = [models.Index(fields=["note", "amended_at"])]

    def __str__(self) -> str:
        return f"Amendment of {self.note_id} by {self.amended_by}"
