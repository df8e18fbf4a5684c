from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from queue_app.models import DailyTokenCounter, QueueEntry, QueueEvent
from queue_app.selectors import queue_board, queue_metrics, queue_version
from queue_app.services import (
    QueueConflict,
    queue_call_next,
    queue_enqueue,
    queue_transition,
    queue_undo,
)
from tests.factories import PatientFactory

Status = QueueEntry.Status
IST = ZoneInfo("Asia/Kolkata")


def walk(entry, *actions, by):
    for action in actions:
        entry = queue_transition(entry_id=entry.pk, action=action, by=by)
    return entry


def test_first_enqueue_of_the_day_gets_token_one(patient, nurse):
    entry = queue_enqueue(patient_id=patient.pk, by=nurse)
    assert entry.token_number == 1
    assert entry.status == Status.WAITING
    assert entry.patient_name == "Asha Rao"
    assert DailyTokenCounter.objects.get(day=entry.day).last_token == 1


def test_second_enqueue_same_day_gets_next_token(patients, nurse):
    tokens = [queue_enqueue(patient_id=p.pk, by=nurse).token_number for p in patients]
    assert tokens == [1, 2, 3, 4, 5]


def test_tokens_restart_at_one_on_the_next_clinic_day(patients, nurse):
    # 23:59 and 00:01 in the clinic's time zone are different days, whatever UTC says.
    with time_machine.travel(datetime(2026, 3, 1, 23, 59, tzinfo=IST), tick=False):
        first = queue_enqueue(patient_id=patients[0].pk, by=nurse)
    with time_machine.travel(datetime(2026, 3, 2, 0, 1, tzinfo=IST), tick=False):
        second = queue_enqueue(patient_id=patients[1].pk, by=nurse)
    assert (first.day.isoformat(), first.token_number) == ("2026-03-01", 1)
    assert (second.day.isoformat(), second.token_number) == ("2026-03-02", 1)


def test_counter_continues_after_imported_tokens(patients, nurse):
    day = datetime.now(IST).date()
    DailyTokenCounter.objects.create(day=day, last_token=40)
    assert queue_enqueue(patient_id=patients[0].pk, by=nurse).token_number == 41


def test_patient_already_waiting_today_is_not_enqueued_twice(patient, nurse):
    queue_enqueue(patient_id=patient.pk, by=nurse)
    with pytest.raises(QueueConflict, match="already in today's queue as token 1"):
        queue_enqueue(patient_id=patient.pk, by=nurse)
    assert QueueEntry.objects.count() == 1
    assert DailyTokenCounter.objects.get().last_token == 1


def test_patient_can_come_back_after_the_visit_is_finished(patient, nurse):
    first = queue_enqueue(patient_id=patient.pk, by=nurse)
    queue_transition(entry_id=first.pk, action="cancel", by=nurse)
    assert queue_enqueue(patient_id=patient.pk, by=nurse).token_number == 2


def test_enqueue_rejects_unknown_patient_and_priority(patient, nurse):
    with pytest.raises(ValidationError):
        queue_enqueue(patient_id="PAT_MISSING0", by=nurse)
    with pytest.raises(ValidationError):
        queue_enqueue(patient_id=patient.pk, priority="vip", by=nurse)


def test_enqueue_records_an_event_and_bumps_the_version(patient, nurse):
    entry = queue_enqueue(patient_id=patient.pk, by=nurse)
    event = QueueEvent.objects.get(entry=entry)
    assert (event.from_status, event.to_status, event.action, event.by) == (
        "", Status.WAITING, "enqueue", nurse,
    )  # fmt: skip
    assert queue_version(day=entry.day) == 1


def test_full_workflow_stamps_each_step(patient, nurse, doctor):
    entry = queue_enqueue(patient_id=patient.pk, by=nurse)
    entry = walk(entry, "start", "nurse-complete", "ready", by=nurse)
    assert entry.status == Status.READY_FOR_DOCTOR
    entry = queue_call_next(by=doctor, room="2")
    assert (entry.status, entry.doctor, entry.room) == (Status.IN_CONSULTATION, doctor, "2")
    entry = queue_transition(entry_id=entry.pk, action="complete", by=doctor)
    stored = QueueEntry.objects.get(pk=entry.pk)
    assert stored.status == Status.COMPLETED
    stamps = [stored.started_at, stored.nurse_completed_at, stored.timeline_ready_at,
              stored.consultation_started_at, stored.completed_at]  # fmt: skip
    assert all(stamps) and stamps == sorted(stamps)
    actions = list(QueueEvent.objects.filter(entry=entry).values_list("action", flat=True))
    assert actions == ["enqueue", "start", "nurse-complete", "ready", "call-next", "complete"]


def test_start_keeps_waiting_and_cannot_happen_twice(patient, nurse):
    entry = walk(queue_enqueue(patient_id=patient.pk, by=nurse), "start", by=nurse)
    assert entry.status == Status.WAITING and entry.started_at
    with pytest.raises(QueueConflict, match="already started"):
        walk(entry, "start", by=nurse)


@pytest.mark.parametrize(
    ("done", "action"),
    [((), "ready"), ((), "complete"), (("nurse-complete",), "nurse-complete"),
     (("cancel",), "cancel"), (("cancel",), "start")],
)  # fmt: skip
def test_illegal_move_is_a_conflict_naming_the_state(patient, nurse, doctor, done, action):
    entry = walk(queue_enqueue(patient_id=patient.pk, by=nurse), *done, by=nurse)
    with pytest.raises(QueueConflict, match=f"Token 1 is .*: cannot {action.replace('-', ' ')}"):
        walk(entry, action, by=doctor)


def test_cancel_works_from_every_open_state(patients, nurse, doctor):
    for patient, done in zip(
        patients[:3], [(), ("nurse-complete",), ("nurse-complete", "ready")], strict=True
    ):
        entry = walk(queue_enqueue(patient_id=patient.pk, by=nurse), *done, by=nurse)
        assert walk(entry, "cancel", by=nurse).status == Status.CANCELLED
    entry = walk(queue_enqueue(patient_id=patients[4].pk, by=nurse), "nurse-complete", "ready",
                 by=nurse)  # fmt: skip
    queue_call_next(by=doctor)
    assert walk(entry, "cancel", by=doctor).cancelled_at


def test_a_stale_desk_loses_with_a_conflict(patient, nurse):
    entry = queue_enqueue(patient_id=patient.pk, by=nurse)
    walk(entry, "nurse-complete", by=nurse)
    with pytest.raises(QueueConflict):
        walk(entry, "nurse-complete", by=nurse)
    assert QueueEvent.objects.filter(entry=entry, action="nurse-complete").count() == 1


def test_nurse_may_not_run_doctor_steps(patient, nurse, records):
    entry = walk(queue_enqueue(patient_id=patient.pk, by=nurse), "nurse-complete", "ready",
                 by=nurse)  # fmt: skip
    with pytest.raises(PermissionDenied):
        queue_call_next(by=nurse)
    with pytest.raises(PermissionDenied):
        walk(entry, "cancel", by=records)


def test_call_next_takes_emergency_then_urgent_then_lowest_token(patients, nurse, doctor):
    priorities = ["normal", "urgent", "normal", "emergency", "urgent"]
    for patient, priority in zip(patients, priorities, strict=True):
        entry = queue_enqueue(patient_id=patient.pk, priority=priority, by=nurse)
        walk(entry, "nurse-complete", "ready", by=nurse)
    called = [queue_call_next(by=doctor, allow_second=True).token_number for _ in patients]
    assert called == [4, 2, 5, 1, 3]
    with pytest.raises(QueueConflict, match="No patient is ready"):
        queue_call_next(by=doctor, allow_second=True)


def test_board_orders_waiting_by_priority_then_token(patients, nurse):
    for patient, priority in zip(
        patients, ["normal", "urgent", "normal", "emergency", "normal"], strict=True
    ):
        queue_enqueue(patient_id=patient.pk, priority=priority, by=nurse)
    walk(QueueEntry.objects.get(token_number=5), "cancel", by=nurse)
    board = queue_board()
    assert [e["token_number"] for e in board["entries"]] == [4, 2, 1, 3]
    assert (board["cancelled"], board["completed"]) == (1, 0)


def test_undo_walks_back_one_step_at_a_time(patient, nurse, doctor, settings):
    settings.QUEUE_UNDO_REPEAT_SECONDS = 0  # deliberate undos, one after another
    entry = walk(queue_enqueue(patient_id=patient.pk, by=nurse), "start", "nurse-complete",
                 "ready", by=nurse)  # fmt: skip
    queue_call_next(by=doctor, room="5")
    entry = queue_undo(entry_id=entry.pk, by=doctor)
    assert (entry.status, entry.doctor, entry.room) == (Status.READY_FOR_DOCTOR, None, "")
    assert entry.consultation_started_at is None
    assert queue_undo(entry_id=entry.pk, by=nurse).status == Status.NURSE_COMPLETED
    assert queue_undo(entry_id=entry.pk, by=nurse).status == Status.WAITING
    entry = queue_undo(entry_id=entry.pk, by=nurse)
    assert entry.status == Status.WAITING and entry.started_at is None
    with pytest.raises(QueueConflict, match="no step to undo"):
        queue_undo(entry_id=entry.pk, by=nurse)
    undo = QueueEvent.objects.filter(entry=entry, action="undo").first()
    assert (undo.from_status, undo.to_status, undo.by) == (
        Status.IN_CONSULTATION,
        Status.READY_FOR_DOCTOR,
        doctor,
    )


def test_undo_of_a_doctor_step_needs_a_doctor(patient, nurse, doctor):
    entry = walk(queue_enqueue(patient_id=patient.pk, by=nurse), "nurse-complete", "ready",
                 by=nurse)  # fmt: skip
    queue_call_next(by=doctor)
    with pytest.raises(PermissionDenied):
        queue_undo(entry_id=entry.pk, by=nurse)


def test_undo_cancel_restores_the_previous_state_unless_requeued(patients, nurse):
    entry = walk(queue_enqueue(patient_id=patients[0].pk, by=nurse), "nurse-complete", "cancel",
                 by=nurse)  # fmt: skip
    assert queue_undo(entry_id=entry.pk, by=nurse).status == Status.NURSE_COMPLETED
    walk(entry, "cancel", by=nurse)
    queue_enqueue(patient_id=patients[0].pk, by=nurse)
    with pytest.raises(QueueConflict, match="queue again"):
        queue_undo(entry_id=entry.pk, by=nurse)


def test_metrics_count_waiting_patients_with_their_wait_so_far(patients, nurse, doctor):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=IST)
    with time_machine.travel(start, tick=False) as clock:
        seen = queue_enqueue(patient_id=patients[0].pk, by=nurse)
        queue_enqueue(patient_id=patients[1].pk, by=nurse)
        clock.shift(timedelta(minutes=10))
        walk(seen, "start", "nurse-complete", "ready", by=nurse)
        clock.shift(timedelta(minutes=20))
        queue_call_next(by=doctor)
        clock.shift(timedelta(minutes=30))
        metrics = queue_metrics(day=start.date())
    assert metrics["waiting"] == 1
    assert metrics["arrival_to_nurse"] == {"count": 2, "avg_minutes": 35.0, "p90_minutes": 60.0}
    assert metrics["nurse_to_doctor"] == {"count": 1, "avg_minutes": 20.0, "p90_minutes": 20.0}
    assert metrics["total"] == {"count": 2, "avg_minutes": 45.0, "p90_minutes": 60.0}


def test_metrics_of_an_empty_day_have_no_averages(db):
    metrics = queue_metrics(day=datetime(2026, 1, 1).date())
    assert metrics["waiting"] == 0 and metrics["total"]["avg_minutes"] is None


def test_enqueue_reads_the_counter_again_after_losing_the_compare_and_set(
    patients, nurse, monkeypatch
):
    from queue_app import services

    real_filter = DailyTokenCounter.objects.filter
    attempts = []

    def racing_filter(*args, **kwargs):
        if "last_token" in kwargs:
            attempts.append(kwargs["last_token"])
            if len(attempts) == 1:  # another desk moved the counter first
                return real_filter(pk=None)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(services.DailyTokenCounter.objects, "filter", racing_filter)
    assert queue_enqueue(patient_id=patients[0].pk, by=nurse).token_number == 1
    assert attempts == [0, 0]


def test_enqueue_makes_no_patient_twice_even_when_factories_share_names(nurse):
    a, b = PatientFactory(name="Same Name"), PatientFactory(name="Same Name")
    assert queue_enqueue(patient_id=a.pk, by=nurse).token_number == 1
    assert queue_enqueue(patient_id=b.pk, by=nurse).token_number == 2
