from django.conf import settings
from django.db import models
from django.utils import timezone

from clinic import ids


class QueueEntry(models.Model):
    """A patient's place in one clinic day's queue, with a timestamp for each workflow step."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        NURSE_COMPLETED = "nurse_completed", "Nurse completed"
        READY_FOR_DOCTOR = "ready_for_doctor", "Ready for doctor"
        IN_CONSULTATION = "in_consultation", "In consultation"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        NORMAL = "normal", "Normal"
        URGENT = "urgent", "Urgent"
        EMERGENCY = "emergency", "Emergency"

    id = models.CharField("queue ID", primary_key=True, max_length=40, default=ids.new_queue_id)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="queue_entries"
    )
    patient_name = models.CharField(max_length=200, blank=True)
    day = models.DateField(help_text="Clinic day (local date of arrival); tokens count per day.")
    token_number = models.PositiveIntegerField()
    priority = models.CharField(max_length=16, choices=Priority, default=Priority.NORMAL)
    status = models.CharField(max_length=32, choices=Status, default=Status.WAITING)
    added_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    nurse_completed_at = models.DateTimeField(null=True, blank=True)
    timeline_ready_at = models.DateTimeField(null=True, blank=True)
    consultation_started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultations",
    )
    room = models.CharField(max_length=32, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-day", "token_number"]
        verbose_name_plural = "queue entries"
        constraints = [
            models.UniqueConstraint(fields=["day", "token_number"], name="unique_token_per_day")
        ]
        indexes = [
            models.Index(fields=["patient", "added_at"]),
            models.Index(fields=["day", "status"]),
            models.Index(fields=["status"]),
            models.Index(fields=["added_at"]),
        ]
        permissions = [("consult_queueentry", "Can call patients in and complete consultations")]

    def __str__(self) -> str:
        return f"Token {self.token_number} on {self.day} ({self.get_status_display()})"


class QueueEvent(models.Model):
    """An immutable record of one workflow step: who moved which entry from what to what."""

    id = models.CharField(primary_key=True, max_length=40, default=ids.new_event_id)
    entry = models.ForeignKey(QueueEntry, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=32, choices=QueueEntry.Status, blank=True)
    to_status = models.CharField(max_length=32, choices=QueueEntry.Status)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    undo_of = models.CharField(max_length=40, blank=True)
    # Which API action made the step; "start" keeps the status, so from/to cannot tell it.
    action = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["entry", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.from_status or '—'} → {self.to_status}"


class DailyTokenCounter(models.Model):
    """The last token handed out on a clinic day; bumped atomically so desks never collide."""

    day = models.DateField(primary_key=True)
    last_token = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last_token}"


class QueueDayVersion(models.Model):
    """Bumped after every change to a day's queue: the cheap ETag and live-update signal."""

    day = models.DateField(primary_key=True)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: v{self.version}"


class LiveStreamLease(models.Model):
    """One open live-update stream of a user, so the per-user cap holds across server processes.

    The process serving the stream renews `expires_at` while it is open and deletes the row when
    it ends; a row left by a killed process simply expires."""

    # `_id`, as the other domain keys on main: MongoDB's own index serves lookups by key.
    id = models.CharField(primary_key=True, max_length=40, db_column="_id")
    user_key = models.CharField(max_length=64)
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user_key", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.user_key} until {self.expires_at:%H:%M:%S}"
