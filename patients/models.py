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


def nhs_number_is_valid(digits: str) -> bool:
    """Ten digits whose last is the modulus 11 check digit of the first nine (NHS data dictionary)."""  # noqa: E501
    if not re.fullmatch(r"[0-9]{10}", digits or ""):
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return {11: 0}.get(check, check) == int(digits[9])


def validate_nhs_number(value: str) -> None:
    if not nhs_number_is_valid(value):
        raise ValidationError(
            "An NHS number is 10 digits (no spaces) whose last digit is its modulus 11 check "
            "digit; check it was typed correctly.",
            code="nhs_number",
        )


NO_NAME = "(no name recorded)"


def new_merge_id() -> str:
    return ids.new_id("MRG")


def age_on(born, day) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Patient(models.Model):
    """A registered patient; `id` is the domain ID staff see (`PAT_72D90B86`)."""

    class Gender(models.TextChoices):
        MALE = "M", "Male"
        FEMALE = "F", "Female"
        OTHER = "O", "Other"

    id = models.CharField(
        "patient ID", primary_key=True, max_length=40, default=ids.new_patient_id, db_column="_id"
    )
    uhid = models.CharField(
        "UHID", max_length=32, unique=True, null=True, blank=True, validators=[validate_uhid]
    )
    # Blank only for patients imported from a system that recorded none (the oncology system);
    # staff registering a patient must type one (clean(), the API serializer).
    name = models.CharField(max_length=200, blank=True)
    age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130, "Age must be between 0 and 130.")]
    )
    date_of_birth = models.DateField(null=True, blank=True)
    date_of_birth_estimated = models.BooleanField(
        default=False, help_text="Derived from a stated age, not a recorded date of birth."
    )
    gender = models.CharField(max_length=1, choices=Gender, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    nhs_number = models.CharField(
        "NHS number",
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_nhs_number],
        help_text="10 digits, no spaces.",
    )
    ethnicity = models.CharField(
        max_length=2, blank=True, help_text="NHS ethnic category code (A–Z, 99 not known)."
    )
    postcode = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Legacy fields we do not model, kept for export."
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_records",
        help_text="The record this duplicate was merged into; its ID leads there.",
    )

    # Set by migrate_json: the legacy record's fingerprint, and the row's as imported (a row
    # whose values no longer match it was edited in clinic since).
    legacy_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    legacy_row_fingerprint = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        # (name, id) matches the ordering, so the admin and API page through names on the index.
        indexes = [
            models.Index(fields=["name", "id"], name="patients_pa_name_9f42e3_idx"),
            models.Index(fields=["phone"]),
            # Plain indexes beside the unique ones, which django-mongodb-backend 5.2 makes
            # partial and so unusable for a plain equality lookup (clinic/mongo_ids.py).
            models.Index(fields=["uhid"], name="patient_uhid_lookup"),
            models.Index(fields=["nhs_number"], name="patient_nhs_number_lookup"),
            models.Index(fields=["date_of_birth"]),
        ]
        permissions = [
            ("import_legacy", "Can import legacy JSON files"),
            ("export_legacy", "Can export data in the legacy formats"),
            ("merge_patient", "Can merge duplicate patient records"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.uhid or self.id})"

    @property
    def display_name(self) -> str:
        """The name, or for an imported patient without one what identifies them."""
        if (self.name or "").strip():
            return self.name
        if self.uhid:
            return f"{NO_NAME} MRN {self.uhid}"
        if self.nhs_number:
            return f"{NO_NAME} NHS {self.nhs_number}"
        return f"{NO_NAME} {self.id}"

    @property
    def current_age(self) -> int | None:
        """Whole years from the date of birth (estimated or not); the stated age without one."""
        if self.date_of_birth is None:
            return self.age
        return age_on(self.date_of_birth, timezone.localdate())

    def clean(self):
        if not (self.name or "").strip():
            raise ValidationError({"name": "Enter the patient's name."})
        today = timezone.localdate()
        if self.date_of_birth and not (0 <= age_on(self.date_of_birth, today) <= 130):
            raise ValidationError(
                {"date_of_birth": "The date of birth must be today or earlier, within 130 years."}
            )


class Note(models.Model):
    """A note written during a nurse–patient interaction (SOAP, transcription or free text)."""

    class Type(models.TextChoices):
        SOAP = "SOAP", "SOAP note"
        AUDIO_TRANSCRIPTION = "audio_transcription", "Audio transcription"
        MANUAL = "manual", "Manual note"

    # Not editable: the patient page's inline then sends the ID back as a hidden field.
    id = models.CharField(
        "note ID",
        primary_key=True,
        max_length=40,
        default=ids.new_note_id,
        db_column="_id",
        editable=False,
    )
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

    # Set by migrate_json: the legacy record's fingerprint, and the row's as imported (a row
    # whose values no longer match it was edited in clinic since).
    legacy_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    legacy_row_fingerprint = models.CharField(max_length=32, blank=True, editable=False)

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

    id = models.CharField(
        "history ID",
        primary_key=True,
        max_length=40,
        default=ids.new_history_id,
        db_column="_id",
        editable=False,
    )
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

    # Set by migrate_json: the legacy record's fingerprint, and the row's as imported (a row
    # whose values no longer match it was edited in clinic since).
    legacy_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    legacy_row_fingerprint = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-date", "id"]
        # "Medical": the admin's change log of a record is its "history" too.
        verbose_name = "medical history entry"
        verbose_name_plural = "medical history entries"
        indexes = [models.Index(fields=["patient", "date"]), models.Index(fields=["type"])]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.id}"


class PatientSearchTerm(models.Model):
    """One word a patient is found by (`patients.search_terms`); kept by `patients.services`."""

    # "<patient>:<term>"; stored as `_id` like every domain key (MongoDB's own index).
    id = models.CharField(primary_key=True, max_length=120, editable=False, db_column="_id")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="search_terms")
    term = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["term", "patient"])]

    def __str__(self) -> str:
        return self.term


class PatientMerge(models.Model):
    """A duplicate record merged into the one kept, with what moved, so that it can be undone."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_merge_id, editable=False, db_column="_id"
    )
    kept = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_merged")
    moved = models.JSONField(
        default=dict,
        help_text='{"app.model": {"field": [pk, …]}}: the rows moved to the kept record.',
    )
    by = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)
    undone_by = models.CharField(max_length=150, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "id"]
        indexes = [models.Index(fields=["merged", "at"]), models.Index(fields=["kept", "at"])]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.kept_id}"


class Allergy(models.Model):
    """Something the patient reacts to: a drug, a food, or anything else staff must know."""

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"
        UNKNOWN = "", "Not known"

    id = models.CharField(
        "allergy ID", primary_key=True, max_length=40, default=ids.new_allergy_id, db_column="_id"
    )
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
        "amendment ID",
        primary_key=True,
        max_length=40,
        default=ids.new_amendment_id,
        db_column="_id",
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
