"""The event stream, driven without real waiting: the stream's sleep is where the world changes."""

import json

import pytest

from queue_app import live
from queue_app.services import queue_enqueue
from tests.factories import PatientFactory

STREAM = "/api/v1/queue/stream/"


def messages(response, count):
    """The first `count` SSE messages (blank-line separated) of a streaming response."""
    buffer, found = "", []
    for chunk in response.streaming_content:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer and len(found) < count:
            message, buffer = buffer.split("\n\n", 1)
            found.append(message)
        if len(found) >= count:
            break
    response.close()
    return found


@pytest.fixture
def short_stream(settings):
    settings.QUEUE_STREAM_SECONDS = 0


def test_stream_sends_the_current_version_then_ends(client_as, nurse, short_stream):
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    response = client_as("records").get(STREAM, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache" and response["X-Accel-Buffering"] == "no"
    retry, event = messages(response, 2)
    assert retry == "retry: 1000"
    lines = event.split("\n")
    assert lines[:2] == ["id: 1", "event: queue"]
    assert json.loads(lines[2].removeprefix("data: "))["version"] == 1


def test_stream_emits_a_change_within_one_poll(client_as, nurse, settings, monkeypatch):
    settings.QUEUE_STREAM_SECONDS = 60
    sleeps = []

    def a_desk_acts_while_we_sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 1:
            queue_enqueue(patient_id=PatientFactory().pk, by=nurse)

    monkeypatch.setattr(live, "sleep", a_desk_acts_while_we_sleep)
    response = client_as("nurse").get(STREAM, HTTP_ACCEPT="text/event-stream")
    _retry, first, second = messages(response, 3)
    assert first.startswith("id: 0\n") and second.startswith("id: 1\n")
    assert sleeps == [live.POLL_SECONDS]  # the change showed after one half-second poll


def test_stream_resumes_quietly_from_last_event_id_and_beats(client_as, settings, monkeypatch):
    settings.QUEUE_STREAM_SECONDS = 60
    clock = iter(range(0, 1000, 20))  # every look at the clock is 20 s later
    monkeypatch.setattr(live, "monotonic", lambda: next(clock))
    monkeypatch.setattr(live, "sleep", lambda seconds: None)
    response = client_as("nurse").get(
        STREAM, HTTP_ACCEPT="text/event-stream", HTTP_LAST_EVENT_ID="0"
    )
    assert messages(response, 2) == ["retry: 1000", ": heartbeat"]


def test_stream_needs_a_role(client_as, db):
    assert client_as("anonymous").get(STREAM, HTTP_ACCEPT="text/event-stream").status_code == 401
    assert client_as("no_role").get(STREAM, HTTP_ACCEPT="text/event-stream").status_code == 403
