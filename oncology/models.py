from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from clinic import ids


class Episode(models.Model):
    """A cancer episode; `id` is the legacy MongoDB ObjectId's hex string."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.CharField(
        "episode ID", primary_key=True, max_length=24, default=ids.new_episode_id, db_column="_id"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="episodes"
    )
    mrn = models.CharField(
        "hospital number (MRN)",
        max_length=40,
        blank=True,
        help_text="The legacy document's patient_id as it came.",
    )
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    legacy_episode_id = models.CharField(
        "episode ID (legacy)",
        max_length=64,
        blank=True,
        db_index=True,
        help_text="The oncology system's own string ID (EPI-…), kept beside the ObjectId.",
    )
    condition_type = models.CharField(max_length=32, default="cancer")
    cancer_type = models.CharField(max_length=64, blank=True)
    referral_date = models.DateTimeField(null=True, blank=True)
    first_seen_date = models.DateTimeField(null=True, blank=True)
    mdt_discussion_date = models.DateTimeField("MDT discussion date", null=True, blank=True)
    lead_clinician = models.CharField(max_length=200, blank=True)
    episode_status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    last_modified_at = models.DateTimeField(default=timezone.now)
    # The legacy documents' embedded arrays, under their stored names; split_embedded empties them.
    embedded_treatments = models.JSONField(db_column="treatments", default=list, blank=True)
    embedded_tumours = models.JSONField(db_column="tumours", default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    legacy_forms = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="How the legacy document wrote each known field (or that it had none), so "
        "export_json gives every value back with the type it came in.",
    )

    # Set by migrate_json: the legacy record's fingerprint, and the row's as imported (a row
    # whose values no longer match it was edited in clinic since).
    legacy_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    legacy_row_fingerprint = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-referral_date", "id"]
        indexes = [
            models.Index(fields=["episode_status"]),
            models.Index(fields=["referral_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.cancer_type or self.condition_type} episode {self.id}"


class Treatment(models.Model):
    """One treatment given within an episode (surgery, chemotherapy, radiotherapy, …)."""

    class Type(models.TextChoices):
        SURGERY = "surgery", "Surgery"
        CHEMOTHERAPY = "chemotherapy", "Chemotherapy"
        RADIOTHERAPY = "radiotherapy", "Radiotherapy"
        IMMUNOTHERAPY = "immunotherapy", "Immunotherapy"
        HORMONE_THERAPY = "hormone_therapy", "Hormone therapy"
        TARGETED_THERAPY = "targeted_therapy", "Targeted therapy"
        WATCH_AND_WAIT = "watch_and_wait", "Watch and wait"
        OTHER = "other", "Other"

    class Intent(models.TextChoices):
        CURATIVE = "curative", "Curative"
        PALLIATIVE = "palliative", "Palliative"
        UNKNOWN = "unknown", "Unknown"

    # Not editable: an inline then sends the ID back as a hidden field (the admin renders an
    # editable primary key only when it is a form field, and staff must not type IDs).
    id = models.CharField(
        "treatment ID",
        primary_key=True,
        max_length=40,
        default=ids.new_treatment_id,
        db_column="_id",
        editable=False,
    )
    # No index of its own: the (episode, date) index below serves lookups by episode.
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="treatments", db_index=False
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatments"
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Index in the legacy embedded array (kept so a split can be reversed)."
    )
    legacy_id = models.CharField(
        "legacy item ID",
        max_length=64,
        blank=True,
        help_text="The embedded item's own ID when another item held it too (blank: the same "
        "as the record ID); exported back as the item's ID.",
    )
    treatment_type = models.CharField(max_length=32, choices=Type)
    treatment_date = models.DateTimeField(null=True, blank=True)
    treatment_intent = models.CharField(max_length=16, choices=Intent, blank=True)
    provider_organisation = models.CharField(max_length=16, blank=True)
    opcs4_code = models.CharField("OPCS-4 code", max_length=16, blank=True)
    surgical_access_type = models.CharField(max_length=32, blank=True)
    surgical_urgency_type = models.CharField(max_length=32, blank=True)
    asa_grade = models.PositiveSmallIntegerField(
        "ASA grade",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, "ASA grade is a whole number from 1 to 6."),
            MaxValueValidator(6, "ASA grade is a whole number from 1 to 6."),
        ],
    )
    regimen = models.CharField(max_length=200, blank=True)
    cycles = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_gy = models.FloatField("dose (Gy)", null=True, blank=True)
    fractions = models.PositiveSmallIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    embedded_item = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The legacy embedded item verbatim (null: created here); split_embedded "
        "--reverse puts it back exactly.",
    )

    class Meta:
        # By the column, not the episode: ordering by the relation joins every episode first.
        ordering = ["episode_id", "treatment_date", "position"]
        indexes = [
            models.Index(fields=["episode", "treatment_date"]),
            models.Index(fields=["treatment_type"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_treatment_type_display()} {self.id}"


class Tumour(models.Model):
    """A tumour recorded within an episode, with its staging and pathology."""

    class Type(models.TextChoices):
        PRIMARY = "primary", "Primary"
        METASTASIS = "metastasis", "Metastasis"
        RECURRENCE = "recurrence", "Recurrence"

    id = models.CharField(
        "tumour ID",
        primary_key=True,
        max_length=40,
        default=ids.new_tumour_id,
        db_column="_id",
        editable=False,
    )
    # No index of its own: the (episode, date) index below serves lookups by episode.
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="tumours", db_index=False
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="tumours"
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Index in the legacy embedded array (kept so a split can be reversed)."
    )
    legacy_id = models.CharField(
        "legacy item ID",
        max_length=64,
        blank=True,
        help_text="The embedded item's own ID when another item held it too (blank: the same "
        "as the record ID); exported back as the item's ID.",
    )
    tumour_type = models.CharField(max_length=16, choices=Type)
    site = models.CharField(max_length=200, blank=True)
    icd10_code = models.CharField("ICD-10 code", max_length=16, blank=True)
    snomed_morphology_code = models.CharField("SNOMED morphology", max_length=32, blank=True)
    tnm_staging = models.JSONField(
        "TNM staging", default=dict, blank=True, help_text="t_stage, n_stage, m_stage, tnm_version"
    )
    pathology = models.JSONField(
        default=dict,
        blank=True,
        help_text="lymph_nodes_examined, lymph_nodes_positive, crm_status, grade, …",
    )
    diagnosis_date = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    embedded_item = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The legacy embedded item verbatim (null: created here); split_embedded "
        "--reverse puts it back exactly.",
    )

    class Meta:
        ordering = ["episode_id", "diagnosis_date", "position"]
        indexes = [
            models.Index(fields=["episode", "diagnosis_date"]),
            models.Index(fields=["icd10_code"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_tumour_type_display()} tumour {self.id}"


class CosdSubmission(models.Model):
    """One COSD export; `number` goes up by one per submission (the header's submission ID)."""

    number = models.PositiveIntegerField(primary_key=True, db_column="_id")
    period_start = models.DateField()
    period_end = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    record_count = models.PositiveIntegerField(default=0)
    filename = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = "COSD submission"
        permissions = [("export_cosd", "Can export COSD submissions")]

    def __str__(self) -> str:
        return f"COSD submission {self.number}"
