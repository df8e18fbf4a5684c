"""A patient's uploaded documents, the batches they came in, and medical timelines.

Primary keys are stored as `_id` (on SQLite too), as the other apps' are: on MongoDB a key
lookup then uses the _id index (see clinic/mongo_ids.py)."""

from django.db import models
from django.utils import timezone

from clinic import ids
from documents.storage import document_path, document_storage, thumbnail_path


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class DocumentBatch(models.Model):
    """Documents uploaded together for one patient; processed and reported on as one."""

    Status = Status

    id = models.CharField(
        "batch ID", primary_key=True, max_length=40, default=ids.new_batch_id, db_column="_id"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="document_batches"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True, help_text="Why processing failed, per document.")
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "document batches"
        indexes = [models.Index(fields=["patient", "created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Batch {self.id}"


class Document(models.Model):
    """One uploaded file (a photographed prescription, a lab report, a PDF, a note's audio).

    What the extractor read stays in `extracted_data` until a nurse or doctor confirms it on
    the review page; only then does it become history entries (`HistoryEntry.document_id`).
    """

    Status = Status

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        PDF = "pdf", "PDF"
        AUDIO = "audio", "Audio"

    id = models.CharField(
        "document ID",
        primary_key=True,
        max_length=40,
        default=ids.new_document_id,
        db_column="_id",
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="documents"
    )
    batch = models.ForeignKey(
        DocumentBatch,
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
    )
    note_id = models.CharField(max_length=64, blank=True, help_text="Note this recording is of.")
    file = models.FileField(upload_to=document_path, storage=document_storage, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=8, choices=Kind)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    thumbnail = models.FileField(
        upload_to=thumbnail_path, storage=document_storage, max_length=300, blank=True
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True)
    extracted_data = models.JSONField(null=True, blank=True)
    uploaded_by = models.CharField(max_length=150, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "id"]
        indexes = [
            models.Index(fields=["patient", "uploaded_at"]),
            models.Index(fields=["status"]),
        ]
        permissions = [("review_document", "Can confirm what a document says into history")]

    def __str__(self) -> str:
        return f"{self.original_name or self.kind} ({self.id})"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None


class MedicalTimeline(models.Model):
    """A patient's medical timeline: events by date, current medications, chronic conditions,
    allergies and a summary. Clinic builds one per patient (`kind=clinic`, ID `TL_<patient>`)
    from history, notes and documents; legacy AI timelines are kept as `kind=ai`."""

    class Kind(models.TextChoices):
        CLINIC = "clinic", "Built by clinic"
        AI = "ai", "AI-generated (legacy)"

    id = models.CharField(
        "timeline ID",
        primary_key=True,
        max_length=64,
        default=ids.new_timeline_id,
        db_column="_id",
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="medical_timelines"
    )
    kind = models.CharField(max_length=8, choices=Kind, default=Kind.CLINIC)
    batch_id = models.CharField(max_length=64, blank=True, help_text="Batch it summarised.")
    generated_at = models.DateTimeField(default=timezone.now)
    total_documents = models.PositiveIntegerField(default=0)
    timeline_events = models.JSONField(default=list, blank=True)
    current_medications = models.JSONField(default=list, blank=True)
    chronic_conditions = models.JSONField(default=list, blank=True)
    allergies = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Of the sources used.")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-generated_at", "id"]
        indexes = [models.Index(fields=["patient", "generated_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} timeline {self.id}"
