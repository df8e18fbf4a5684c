"""Writes to the queue: enqueue with race-free tokens, workflow steps, call-next and undo.

Races are settled without locks: every step is a conditional update inside `clinic.db.atomic()`.
On SQLite the transaction is IMMEDIATE, so writers queue up; on MongoDB two transactions
touching one document fail the later one with a transient WriteConflict, which we retry
(the retry then sees the winner's change and answers with a clear conflict).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from clinic.audit import audit_change
from clinic.db import atomic, in_transaction, is_mongodb
from patients.models import Patient
from queue_app.models import (
    DailyTokenCounter,
    DoctorRoom,
    QueueDayVersion,
    QueueEntry,
    QueueEvent,
)

T = TypeVar("T")
Status = QueueEntry.Status
OPEN_STATUSES = (
    Status.WAITING,
    Status.NURSE_COMPLETED,
    Status.READY_FOR_DOCTOR,
    Status.IN_CONSULTATION,
)
CONSULT_PERMISSION = "queue_app.consult_queueentry"
CHANGE_PERMISSION = "queue_app.change_queueentry"


class QueueConflict(Exception):
    """The entry's current state (or another desk's move) forbids the requested step."""


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    target: str
    stamp: str
    permission: str


# Action -> step. `start` stamps when the nurse began and keeps the status `waiting`.
STEPS: dict[str, Step] = {
    "start": Step((Status.WAITING,), Status.WAITING, "started_at", CHANGE_PERMISSION),
    "nurse-complete": Step(
        (Status.WAITING,), Status.NURSE_COMPLETED, "nurse_completed_at", CHANGE_PERMISSION
    ),
    "ready": Step(
        (Status.NURSE_COMPLETED,), Status.READY_FOR_DOCTOR, "timeline_ready_at", CHANGE_PERMISSION
    ),
    "call-next": Step(
        (Status.READY_FOR_DOCTOR,),
        Status.IN_CONSULTATION,
        "consultation_started_at",
        CONSULT_PERMISSION,
    ),
    "complete": Step(
        (Status.IN_CONSULTATION,), Status.COMPLETED, "completed_at", CONSULT_PERMISSION
    ),
    "cancel": Step(OPEN_STATUSES, Status.CANCELLED, "cancelled_at", CHANGE_PERMISSION),
}
PRIORITY_RANK = {
    QueueEntry.Priority.EMERGENCY: 0,
    QueueEntry.Priority.URGENT: 1,
    QueueEntry.Priority.NORMAL: 2,
}


class _Retry(Exception):
    """Another desk took the counter value we read; read it again."""


class _NoCounter(Exception):
    """The day's first enqueue: the counter row must be created outside the transaction."""


def _in_transaction(work: Callable[[], T]) -> T:
    return in_transaction(work, retry=(_Retry,))


def _change(work: Callable[[], QueueEntry]) -> QueueEntry:
    """Run `work` in a retried transaction and bump the day's version with it: inside the
    transaction on SQL (one write lock per change, not two), after it on MongoDB, where one
    shared document written inside every transaction would make all desks conflict."""
    inside = not is_mongodb()

    def work_and_bump() -> QueueEntry:
        entry = work()
        if inside:
            queue_version_bump(days=[entry.day])
        return entry

    entry = _in_transaction(work_and_bump)
    if not inside:
        queue_version_bump(days=[entry.day])
    return entry


def _insert_once(model, **fields) -> bool:
    """Insert unless the row exists (True if we made it). One insert is atomic by itself; in a
    MongoDB transaction a racing duplicate would be a WriteConflict rather than a duplicate key."""
    try:
        if is_mongodb():
            model.objects.create(**fields)
        else:
            with atomic():
                model.objects.create(**fields)
        return True
    except IntegrityError:
        return False


def queue_version_bump(*, days: Iterable[date]) -> None:
    """Move each day's version on, so its open boards and displays redraw."""
    days = set(days)
    existing = set(QueueDayVersion.objects.filter(day__in=days).values_list("day", flat=True))
    QueueDayVersion.objects.filter(day__in=existing).update(version=F("version") + 1)
    for day in days - existing:
        if not _insert_once(QueueDayVersion, day=day, version=1):
            QueueDayVersion.objects.filter(day=day).update(version=F("version") + 1)


def queue_enqueue(
    *,
    patient_id: str,
    by,
    priority: str = QueueEntry.Priority.NORMAL,
    reason: str = "",
    now: datetime | None = None,
) -> QueueEntry:
    """Give a registered patient the next token of today's clinic day (never skipped or doubled)."""
    if priority not in PRIORITY_RANK:
        raise ValidationError({"priority": f"Unknown priority {priority!r}."})
    patient = Patient.objects.filter(pk=patient_id).only("id", "name").first()
    if patient is None:
        raise ValidationError({"patient": f"No registered patient {patient_id}."})
    now = now or timezone.now()
    day = timezone.localdate(now)

    def enqueue() -> QueueEntry:
        waiting = QueueEntry.objects.filter(
            patient_id=patient_id, day=day, status__in=OPEN_STATUSES
        ).values_list("token_number", flat=True)
        if waiting:
            raise QueueConflict(
                f"{patient.name} is already in today's queue as token {waiting[0]}."
            )
        last = (
            DailyTokenCounter.objects.filter(day=day).values_list("last_token", flat=True).first()
        )
        if last is None:
            raise _NoCounter
        # Compare-and-set: only one desk moves the counter from `last`; the others read again.
        if not DailyTokenCounter.objects.filter(day=day, last_token=last).update(
            last_token=last + 1
        ):
            raise _Retry
        entry = QueueEntry.objects.create(
            patient_id=patient_id,
            patient_name=patient.name,
            day=day,
            token_number=last + 1,
            priority=priority,
            reason=reason.strip()[:200],
            added_at=now,
        )
        QueueEvent.objects.create(
            entry=entry, from_status="", to_status=Status.WAITING, by=by, at=now, action="enqueue"
        )
        return entry

    for _attempt in range(3):
        try:
            return _change(enqueue)
        except _NoCounter:
            _insert_once(DailyTokenCounter, day=day, last_token=0)  # a racing desk may win
    raise AssertionError("the day's token counter could not be created")


def _check_permission(user, step: Step, action: str) -> None:
    if user is not None and not user.has_perm(step.permission):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(f"Your role may not {action.replace('-', ' ')} queue entries.")


def _describe(entry: QueueEntry) -> str:
    return f"Token {entry.token_number} is {entry.get_status_display().lower()}"


def queue_transition(
    *,
    entry_id: str,
    action: str,
    by,
    room: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> QueueEntry:
    """Apply one workflow step; when two desks act at once one wins, the other conflicts."""
    step = STEPS.get(action)
    if step is None:
        raise ValidationError({"action": f"Unknown queue action {action!r}."})
    _check_permission(by, step, action)

    def move() -> QueueEntry:
        # Read inside the transaction: events then follow the order the writes committed in.
        at = now or timezone.now()
        entry = QueueEntry.objects.get(pk=entry_id)
        if entry.status not in step.sources or getattr(entry, step.stamp) and action == "start":
            already = " and already started" if action == "start" else ""
            raise QueueConflict(f"{_describe(entry)}{already}: cannot {action.replace('-', ' ')}.")
        changes = {"status": step.target, step.stamp: at}
        if action == "call-next":
            changes.update(doctor=by, room=room)
        guard = {"started_at__isnull": True} if action == "start" else {}
        if not QueueEntry.objects.filter(pk=entry_id, status=entry.status, **guard).update(
            **changes
        ):
            raise QueueConflict(f"Token {entry.token_number} was just changed by another desk.")
        QueueEvent.objects.create(
            entry=entry,
            from_status=entry.status,
            to_status=step.target,
            by=by,
            at=at,
            action=action,
            reason=reason.strip()[:200],
        )
        audit_change(entry, {"status": (entry.status, step.target), step.stamp: (None, at)})
        for name, value in changes.items():
            setattr(entry, name, value)
        return entry

    return _change(move)


def _one_at_a_time(by, day: date, allow_second: bool) -> None:
    if allow_second or by is None:
        return
    busy = QueueEntry.objects.filter(day=day, doctor=by, status=Status.IN_CONSULTATION)
    token = busy.values_list("token_number", flat=True).first()
    if token is not None:
        raise QueueConflict(
            f"You are still with token {token}: complete it first, "
            "or choose to see another patient at the same time."
        )


def doctor_room_get(*, user) -> str:
    """The room the doctor last called a patient to ('' if none)."""
    return DoctorRoom.objects.filter(user=user).values_list("room", flat=True).first() or ""


def doctor_room_remember(*, user, room: str) -> None:
    room = room.strip()[:32]
    if not room or user is None or not user.is_authenticated:
        return
    if not DoctorRoom.objects.filter(user=user).update(room=room):
        if not _insert_once(DoctorRoom, user=user, room=room):
            DoctorRoom.objects.filter(user=user).update(room=room)


def queue_call(*, entry_id: str, by, room: str = "", allow_second: bool = False) -> QueueEntry:
    """The doctor calls in a chosen ready patient; one consultation at a time unless the doctor
    chooses to see two. The room is remembered for the doctor's next call."""
    _check_permission(by, STEPS["call-next"], "call")
    entry = QueueEntry.objects.filter(pk=entry_id).only("day").first()
    if entry is None:
        raise ValidationError({"entry": f"No queue entry {entry_id}."})
    _one_at_a_time(by, entry.day, allow_second)
    called = queue_transition(entry_id=entry_id, action="call-next", by=by, room=room)
    doctor_room_remember(user=by, room=room)
    return called


def queue_call_next(
    *, by, room: str = "", day: date | None = None, allow_second: bool = False
) -> QueueEntry:
    """Give the doctor the ready entry with the highest priority, then the lowest token."""
    _check_permission(by, STEPS["call-next"], "call-next")
    day = day or timezone.localdate()
    _one_at_a_time(by, day, allow_second)
    for _ in range(20):
        ready = QueueEntry.objects.filter(day=day, status=Status.READY_FOR_DOCTOR).values_list(
            "id", "priority", "token_number"
        )
        candidates = sorted(ready, key=lambda row: (PRIORITY_RANK.get(row[1], 9), row[2]))
        if not candidates:
            break
        for entry_id, _priority, _token in candidates:
            try:
                called = queue_transition(entry_id=entry_id, action="call-next", by=by, room=room)
                doctor_room_remember(user=by, room=room)
                return called
            except QueueConflict:
                continue  # another doctor called this one first; try the next
    raise QueueConflict("No patient is ready for a doctor.")


def _last_step(events: list[QueueEvent]) -> QueueEvent | None:
    undone = {event.undo_of for event in events if event.action == "undo"}
    steps = [e for e in events if e.action in STEPS and e.id not in undone]
    return steps[-1] if steps else None


def _just_undone(events: list[QueueEvent], now: datetime) -> bool:
    """Several presses of one Undo (a double click, parallel requests) undo one step: a further
    undo within QUEUE_UNDO_REPEAT_SECONDS of the last one is refused, not applied."""
    window = timedelta(seconds=settings.QUEUE_UNDO_REPEAT_SECONDS)
    recent = [event.at for event in events if event.action == "undo" and now - event.at < window]
    if not recent:
        return False
    # A step taken after that undo makes the next undo a new one. Compared by time, not by
    # position: MongoDB keeps milliseconds, so a step and the undo after it may share a stamp.
    return not any(event.action != "undo" and event.at > max(recent) for event in events)


def queue_undo(*, entry_id: str, by, now: datetime | None = None) -> QueueEntry:
    """Revert the entry's last step (itself recorded as an event); enqueue cannot be undone."""

    def undo() -> QueueEntry:
        # The time is read inside the transaction, so events follow the order of the writes.
        at = now or timezone.now()
        entry = QueueEntry.objects.get(pk=entry_id)
        events = list(QueueEvent.objects.filter(entry=entry).order_by("at", "id"))
        last = _last_step(events)
        if last is None:
            raise QueueConflict(f"Token {entry.token_number} has no step to undo.")
        if _just_undone(events, at):
            raise QueueConflict(
                f"Token {entry.token_number} was just undone; wait a moment to undo another step."
            )
        step = STEPS[last.action]
        _check_permission(by, step, f"undo {last.action} on")
        changes = {"status": last.from_status, step.stamp: None}
        if last.action == "call-next":
            changes.update(doctor=None, room="")
        if (
            last.action == "cancel"
            and QueueEntry.objects.filter(
                patient_id=entry.patient_id, day=entry.day, status__in=OPEN_STATUSES
            ).exists()
        ):
            raise QueueConflict("The patient is in today's queue again; cannot undo the cancel.")
        if not QueueEntry.objects.filter(
            pk=entry_id, status=entry.status, **{f"{step.stamp}__isnull": False}
        ).update(**changes):
            raise QueueConflict(f"Token {entry.token_number} was just changed by another desk.")
        QueueEvent.objects.create(
            entry=entry,
            from_status=entry.status,
            to_status=last.from_status,
            by=by,
            at=at,
            action="undo",
            undo_of=last.id,
        )
        audit_change(entry, {"status": (entry.status, last.from_status), "undo_of": ("", last.id)})
        for name, value in changes.items():
            setattr(entry, name, value)
        return entry

    return _change(undo)
