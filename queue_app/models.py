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

    id = models.CharField(
        "queue ID", primary_key=True, max_length=40, default=ids.new_queue_id, db_column="_id"
    )
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
    reason = models.CharField(
        "reason for the visit", max_length=200, blank=True, help_text="e.g. fever, follow-up."
    )
    extra = models.JSONField(default=dict, blank=True)

    # Set by migrate_json: the legacy record's fingerprint, and the row's as imported (a row
    # whose values no longer match it was edited in clinic since).
    legacy_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    legacy_row_fingerprint = models.CharField(max_length=32, blank=True, editable=False)

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

    id = models.CharField(
        primary_key=True, max_length=40, default=ids.new_event_id, db_column="_id"
    )
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
    reason = models.CharField(max_length=200, blank=True, help_text="Why, e.g. for a cancel.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["entry", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.from_status or '—'} → {self.to_status}"


class DailyTokenCounter(models.Model):
    """The last token handed out on a clinic day; bumped atomically so desks never collide."""

    day = models.DateField(primary_key=True, db_column="_id")
    last_token = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last_token}"


class QueueDayVersion(models.Model):
    """Bumped after every change to a day's queue: the cheap ETag and live-update signal."""

    day = models.DateField(primary_key=True, db_column="_id")
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: v{self.version}"


class Vitals(models.Model):
    """Observations the nurse takes for one visit; every value is optional, none implausible."""

    id = models.CharField(
        "vitals ID", primary_key=True, max_length=40, default=ids.new_vitals_id, db_column="_id"
    )
    entry = models.ForeignKey(QueueEntry, on_delete=models.PROTECT, related_name="vitals")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="vitals")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.CharField(max_length=150, blank=True)
    systolic_bp = models.PositiveSmallIntegerField("systolic BP (mmHg)", null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField("diastolic BP (mmHg)", null=True, blank=True)
    pulse = models.PositiveSmallIntegerField("pulse (/min)", null=True, blank=True)
    temperature_c = models.DecimalField(
        "temperature (°C)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    spo2 = models.PositiveSmallIntegerField("SpO2 (%)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(
        "respiratory rate (/min)", null=True, blank=True
    )
    weight_kg = models.DecimalField(
        "weight (kg)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    height_cm = models.DecimalField(
        "height (cm)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    blood_glucose = models.DecimalField(
        "blood glucose (mg/dL)", max_digits=5, decimal_places=1, null=True, blank=True
    )

    class Meta:
        ordering = ["-recorded_at", "id"]
        verbose_name_plural = "vitals"
        indexes = [
            models.Index(fields=["entry", "recorded_at"]),
            models.Index(fields=["patient", "recorded_at"]),
        ]

    def __str__(self) -> str:
        return f"Vitals {self.id} of {self.entry_id}"

    @property
    def bmi(self) -> float | None:
        if not (self.weight_kg and self.height_cm):
            return None
        metres = float(self.height_cm) / 100
        return round(float(self.weight_kg) / (metres * metres), 1)


class DoctorRoom(models.Model):
    """The room a doctor last called patients to, offered again next time."""

    id = models.CharField(primary_key=True, max_length=40, default=ids.new_room_id, db_column="_id")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_room"
    )
    room = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.room or 'no room'}"


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
