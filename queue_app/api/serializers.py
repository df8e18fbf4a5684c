from rest_framework import serializers

from queue_app.models import QueueEntry, QueueEvent, Vitals
from queue_app.vitals import RANGES

ENTRY_FIELDS = [
    "id", "patient", "patient_name", "day", "token_number", "priority", "status", "added_at",
    "started_at", "nurse_completed_at", "timeline_ready_at", "consultation_started_at",
    "completed_at", "cancelled_at", "doctor", "room", "reason",
]  # fmt: skip


class QueueEntrySerializer(serializers.ModelSerializer):
    # A string on every backend: a MongoDB user ID is an ObjectId.
    doctor = serializers.CharField(source="doctor_id", read_only=True, allow_null=True)

    class Meta:
        model = QueueEntry
        fields = ENTRY_FIELDS
        read_only_fields = ENTRY_FIELDS


class QueueEnqueueSerializer(serializers.Serializer):
    patient = serializers.CharField(max_length=40, help_text="The registered patient's ID (PAT_…).")
    priority = serializers.ChoiceField(
        choices=QueueEntry.Priority.choices, default=QueueEntry.Priority.NORMAL
    )
    reason = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True,
        help_text="Reason for the visit, e.g. fever, follow-up.",
    )  # fmt: skip


class QueueCallNextSerializer(serializers.Serializer):
    room = serializers.CharField(
        max_length=32, required=False, default="", allow_blank=True,
        help_text="Default: the room this doctor called to last.",
    )  # fmt: skip
    allow_second = serializers.BooleanField(
        required=False, default=False,
        help_text="See another patient while one consultation is still open.",
    )  # fmt: skip


class QueueCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class VitalsSerializer(serializers.ModelSerializer):
    bmi = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Vitals
        fields = ["id", "entry", "patient", "recorded_at", "recorded_by", *RANGES, "bmi"]
        read_only_fields = ["id", "entry", "patient", "recorded_at", "recorded_by", "bmi"]


class QueueEventSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = QueueEvent
        fields = ["id", "entry", "action", "from_status", "to_status", "by", "at", "undo_of",
                  "reason"]  # fmt: skip
        read_only_fields = fields


class BoardEntrySerializer(serializers.ModelSerializer):
    doctor = serializers.CharField(source="doctor_id", read_only=True, allow_null=True)
    doctor_name = serializers.CharField(read_only=True)

    class Meta:
        model = QueueEntry
        fields = [
            "id", "patient", "patient_name", "token_number", "priority", "status", "added_at",
            "started_at", "nurse_completed_at", "timeline_ready_at", "consultation_started_at",
            "doctor", "doctor_name", "room", "reason",
        ]  # fmt: skip
        read_only_fields = fields


class QueueBoardSerializer(serializers.Serializer):
    day = serializers.DateField()
    version = serializers.IntegerField(help_text="Changes whenever the day's queue changes.")
    completed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    entries = BoardEntrySerializer(many=True, help_text="Open entries: step, priority, token.")


class WaitSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    avg_minutes = serializers.FloatField(allow_null=True)
    p90_minutes = serializers.FloatField(allow_null=True)


class QueueMetricsSerializer(serializers.Serializer):
    day = serializers.DateField()
    waiting = serializers.IntegerField(help_text="Open entries not yet with a doctor.")
    arrival_to_nurse = WaitSerializer()
    nurse_to_doctor = WaitSerializer()
    total = WaitSerializer(help_text="Arrival to doctor.")
