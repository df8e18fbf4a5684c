"""Reads of the queue: today's board, the display, the live version and wait-time metrics."""

import re
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from patients.models import Patient
from queue_app.models import QueueDayVersion, QueueEntry, QueueEvent, Vitals
from queue_app.services import OPEN_STATUSES, PRIORITY_RANK
from queue_app.vitals import vitals_text

Status = QueueEntry.Status
STATUS_ORDER = {status: index for index, status in enumerate(OPEN_STATUSES)}
BOARD_FIELDS = (
    "id", "patient_id", "patient_name", "day", "token_number", "priority", "status",
    "added_at", "started_at", "nurse_completed_at", "timeline_ready_at",
    "consultation_started_at", "completed_at", "doctor_id", "room", "reason",
)  # fmt: skip
# The stamp a row has been in its status since (waiting: since the nurse began, else arrival).
STATUS_SINCE = {
    Status.WAITING: ("started_at", "added_at"),
    Status.NURSE_COMPLETED: ("nurse_completed_at",),
    Status.READY_FOR_DOCTOR: ("timeline_ready_at",),
    Status.IN_CONSULTATION: ("consultation_started_at",),
}
VITALS_FIELDS = ("entry_id", "recorded_at", "systolic_bp", "diastolic_bp", "pulse",
                 "temperature_c", "spo2", "respiratory_rate", "weight_kg", "height_cm",
                 "blood_glucose")  # fmt: skip


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


def _age(row: dict, today: date) -> int | None:
    born = row.get("date_of_birth")
    if born:
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return row.get("age")


def _lateness(minutes: int, warn: int, alert: int) -> str:
    return "alert" if minutes >= alert else "warn" if minutes >= warn else ""


def patients_brief(ids: set[str]) -> dict[str, dict]:
    """Age and sex of the given patients (one query)."""
    today = timezone.localdate()
    rows = Patient.objects.filter(pk__in=ids).values("id", "age", "gender", "date_of_birth")
    return {row["id"]: {"age": _age(row, today), "sex": row["gender"]} for row in rows}


def latest_vitals(entry_ids: list[str]) -> dict[str, dict]:
    """The most recent vitals of each entry (one query)."""
    latest: dict[str, dict] = {}
    rows = Vitals.objects.filter(entry_id__in=entry_ids).values(*VITALS_FIELDS)
    for row in sorted(rows, key=lambda r: r["recorded_at"]):
        latest[row["entry_id"]] = row
    return latest


def queue_desk_board(*, day: date | None = None, now: datetime | None = None) -> dict:
    """The board as the desk sees it: each open row with age/sex, the latest vitals, minutes
    waited and minutes in its status (with a lateness level from the settings), plus the day's
    cancelled entries with the reason given."""
    now = now or timezone.now()
    board = queue_board(day=day)
    entries = board["entries"]
    people = patients_brief({e["patient_id"] for e in entries})
    vitals = latest_vitals([e["id"] for e in entries])
    for entry in entries:
        entry.update(people.get(entry["patient_id"], {"age": None, "sex": ""}))
        entry["vitals"] = vitals.get(entry["id"])
        entry["vitals_text"] = vitals_text(entry["vitals"]) if entry["vitals"] else ""
        stamps = (entry[name] for name in STATUS_SINCE[entry["status"]])
        since = next((stamp for stamp in stamps if stamp), None) or entry["added_at"]
        entry["status_since"] = since
        entry["waited_minutes"] = int((now - entry["added_at"]).total_seconds() // 60)
        entry["status_minutes"] = int((now - since).total_seconds() // 60)
        entry["waited_late"] = _lateness(
            entry["waited_minutes"],
            settings.QUEUE_WAIT_WARN_MINUTES,
            settings.QUEUE_WAIT_ALERT_MINUTES,
        )
        entry["status_late"] = _lateness(
            entry["status_minutes"],
            settings.QUEUE_STATUS_WARN_MINUTES,
            settings.QUEUE_STATUS_ALERT_MINUTES,
        )
    board["cancelled_entries"] = queue_cancelled(day=board["day"])
    return board


def queue_cancelled(*, day: date) -> list[dict]:
    """The day's cancelled entries, latest first, with when and why they were cancelled."""
    rows = list(
        QueueEntry.objects.filter(day=day, status=Status.CANCELLED).values(
            "id", "patient_id", "patient_name", "token_number", "cancelled_at", "reason"
        )
    )
    why = {}
    events = QueueEvent.objects.filter(entry_id__in=[r["id"] for r in rows], action="cancel")
    for event in events.order_by("at", "id").values("entry_id", "reason", "by__username"):
        why[event["entry_id"]] = event
    for row in rows:
        event = why.get(row["id"], {})
        row["cancel_reason"] = event.get("reason", "")
        row["cancelled_by"] = event.get("by__username") or ""
    return sorted(rows, key=lambda r: r["cancelled_at"] or timezone.now(), reverse=True)
