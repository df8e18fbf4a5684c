"""Reads of the queue: today's board, the display, the live version and wait-time metrics."""

import re
from datetime import date

from django.contrib.auth import get_user_model
from django.utils import timezone

from queue_app.models import QueueDayVersion, QueueEntry, QueueEvent
from queue_app.services import OPEN_STATUSES, PRIORITY_RANK

Status = QueueEntry.Status
STATUS_ORDER = {status: index for index, status in enumerate(OPEN_STATUSES)}
BOARD_FIELDS = (
    "id", "patient_id", "patient_name", "day", "token_number", "priority", "status",
    "added_at", "started_at", "nurse_completed_at", "timeline_ready_at",
    "consultation_started_at", "completed_at", "doctor_id", "room",
)  # fmt: skip


STATUS_LABELS = dict(Status.choices)
PRIORITY_LABELS = dict(QueueEntry.Priority.choices)


def waiting_order(entry: dict) -> tuple:
    return (PRIORITY_RANK.get(entry["priority"], 9), entry["token_number"])


def queue_version(*, day: date) -> int:
    return QueueDayVersion.objects.filter(day=day).values_list("version", flat=True).first() or 0


def queue_etag(*, day: date, kind: str = "board") -> str:
    return f'"{kind}-{day.isoformat()}-{queue_version(day=day)}"'


def doctor_names(entries: list[dict]) -> dict:
    ids = {entry["doctor_id"] for entry in entries if entry["doctor_id"]}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def queue_board(*, day: date | None = None) -> dict:
    """The day's open entries as dicts (the hottest read: no model instances), by step, then
    priority, then token; plus finished counts and the version the data is at least as new as."""
    day = day or timezone.localdate()
    version = queue_version(day=day)
    rows = QueueEntry.objects.filter(day=day, status__in=OPEN_STATUSES).values(*BOARD_FIELDS)
    entries = sorted(rows, key=lambda entry: (STATUS_ORDER[entry["status"]], *waiting_order(entry)))
    names = doctor_names(entries)
    for entry in entries:
        entry["doctor_name"] = names.get(entry["doctor_id"], "")
        entry["status_label"] = STATUS_LABELS[entry["status"]]
        entry["priority_label"] = PRIORITY_LABELS.get(entry["priority"], entry["priority"])
    day_entries = QueueEntry.objects.filter(day=day)
    return {
        "day": day,
        "version": version,
        "entries": entries,
        "completed": day_entries.filter(status=Status.COMPLETED).count(),
        "cancelled": day_entries.filter(status=Status.CANCELLED).count(),
    }


def room_label(room: str) -> str:
    """ "Room 3" for a room typed as "3" or as "Room 3"; a named room ("Minor OT") as it is."""
    room = (room or "").strip()
    if re.fullmatch(r"(?i)room\b.*", room) or not re.fullmatch(r"[\w/-]{1,6}", room or "-"):
        return room
    return f"Room {room}" if room else ""


def queue_display(*, day: date | None = None, next_count: int = 6) -> dict:
    """What the waiting-room screen shows: who is being seen where, and who is next."""
    board = queue_board(day=day)
    entries = board["entries"]
    serving = [
        {**entry, "room_label": room_label(entry["room"])}
        for entry in entries
        if entry["status"] == Status.IN_CONSULTATION
    ]
    serving.sort(key=lambda entry: (entry["room"] or entry["doctor_name"], entry["token_number"]))
    upcoming = [entry for entry in entries if entry["status"] != Status.IN_CONSULTATION]
    upcoming.sort(key=lambda e: (-STATUS_ORDER[e["status"]], *waiting_order(e)))
    return {**board, "serving": serving, "next": upcoming[:next_count]}


def queue_events(*, entry_id: str):
    return QueueEvent.objects.filter(entry_id=entry_id).order_by("at", "id")


def _minutes(seconds: list[float]) -> dict:
    if not seconds:
        return {"count": 0, "avg_minutes": None, "p90_minutes": None}
    ordered = sorted(seconds)
    p90 = ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]  # nearest-rank 90th percentile
    return {
        "count": len(ordered),
        "avg_minutes": round(sum(ordered) / len(ordered) / 60, 1),
        "p90_minutes": round(p90 / 60, 1),
    }


def queue_metrics(*, day: date, now=None) -> dict:
    """Wait times of one day; patients still waiting count with their wait so far."""
    now = now or timezone.now()
    entries = (
        QueueEntry.objects.filter(day=day).exclude(status=Status.CANCELLED).only(*BOARD_FIELDS)
    )
    to_nurse, to_doctor, total, waiting = [], [], [], 0
    for entry in entries:
        nurse_at = entry.started_at or entry.nurse_completed_at
        nurse_done = entry.nurse_completed_at or entry.started_at
        doctor_at = entry.consultation_started_at or entry.completed_at
        if entry.status in (Status.WAITING, Status.NURSE_COMPLETED, Status.READY_FOR_DOCTOR):
            waiting += 1
        to_nurse.append(((nurse_at or now) - entry.added_at).total_seconds())
        if nurse_done:
            to_doctor.append(((doctor_at or now) - nurse_done).total_seconds())
        total.append(((doctor_at or now) - entry.added_at).total_seconds())
    return {
        "day": day,
        "waiting": waiting,
        "arrival_to_nurse": _minutes(to_nurse),
        "nurse_to_doctor": _minutes(to_doctor),
        "total": _minutes(total),
    }
