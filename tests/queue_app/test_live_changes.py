"""How the live feed learns of changes: MongoDB change streams, or the poll (SQLite, and MongoDB
deployments without change streams).

The MongoDB leg's server (secantusdb) serves change streams, so the first MongoDB test uses the
real one; a standalone MongoDB answers `$changeStream` with an error, which a fake stands in for
to test the fall-back; a second fake shows the change-stream path alone delivers the events.
"""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone
from knox.models import AuthToken

from queue_app import live_changes, live_hub
from queue_app.services import queue_enqueue
from tests.backend_leg import LEG
from tests.factories import PatientFactory
from tests.queue_app.asgi_driver import streams

STREAM = "/api/v1/queue/stream/"
mongodb_only = pytest.mark.skipif(LEG != "mongodb", reason="change streams are MongoDB's")


@pytest.fixture
def headers(records):
    _, key = AuthToken.objects.create(records)
    return {"authorization": f"Token {key}"}


@pytest.fixture(autouse=True)
def ask_the_server_again(monkeypatch):
    monkeypatch.setattr(live_changes, "_supported", None)


def enqueue_in_thread(nurse):
    return sync_to_async(
        lambda: queue_enqueue(patient_id=PatientFactory().pk, by=nurse), thread_sensitive=False
    )()


async def wait_until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


def test_sqlite_has_no_watcher_thread_the_poll_is_the_watcher(db):
    if LEG != "sqlite":
        pytest.skip("SQLite leg")
    assert live_changes.start_watch(timezone.localdate(), lambda version: None) is None
    assert live_changes.change_streams_supported() is False


@mongodb_only
def test_change_stream_delivers_changes_with_the_poll_out_of_the_way(headers, nurse, monkeypatch):
    monkeypatch.setattr(live_hub, "POLL_SECONDS", 60)  # only the change stream can tell now
    assert live_changes.change_streams_supported()  # secantusdb, like a replica set, has them

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, headers=headers)
            await stream.messages(2)
            feed = next(iter(live_hub.hub().feeds.values()))
            await wait_until(lambda: feed.changes.live)
            started = asyncio.get_running_loop().time()
            await enqueue_in_thread(nurse)
            (event,) = await stream.messages(1, timeout=5)
            assert event.startswith("id: 1\n")
            assert asyncio.get_running_loop().time() - started < 2

    async_to_sync(scenario)()


class FakeChangeStream:
    """pymongo's ChangeStream as far as the watcher uses it: a context manager with try_next."""

    def __init__(self, pipeline, changes: threading.Event):
        self.pipeline, self.changes = pipeline, changes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def try_next(self):
        if self.changes.wait(0.05):
            self.changes.clear()
            return {"operationType": "update"}
        return None


@mongodb_only
def test_a_fake_change_stream_alone_wakes_the_streams(headers, nurse, monkeypatch):
    monkeypatch.setattr(live_hub, "POLL_SECONDS", 60)
    changes, pipelines = threading.Event(), []

    def fake_open(collection, pipeline):
        pipelines.append(pipeline)
        return FakeChangeStream(pipeline, changes)

    monkeypatch.setattr(live_changes, "open_change_stream", fake_open)

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, headers=headers)
            await stream.messages(2)
            feed = next(iter(live_hub.hub().feeds.values()))
            await wait_until(lambda: feed.changes.live)
            await enqueue_in_thread(nurse)
            assert not await stream.ends_within(0.3) and "id: 1" not in stream.buffer
            changes.set()  # the server reports the change to the version document
            (event,) = await stream.messages(1, timeout=5)
            assert event.startswith("id: 1\n")

    async_to_sync(scenario)()
    assert pipelines[-1] == live_changes.WRITES


@mongodb_only
def test_without_change_streams_the_day_is_polled(headers, nurse, monkeypatch):
    from pymongo.errors import OperationFailure

    def standalone_server(collection, pipeline):
        raise OperationFailure(
            "The $changeStream stage is only supported on replica sets", code=40573
        )

    monkeypatch.setattr(live_changes, "open_change_stream", standalone_server)
    monkeypatch.setattr(live_hub, "POLL_SECONDS", 0.05)

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, headers=headers)
            await stream.messages(2)
            feed = next(iter(live_hub.hub().feeds.values()))
            await wait_until(lambda: not feed.changes.thread.is_alive())
            assert not feed.changes.live
            await enqueue_in_thread(nurse)
            (event,) = await stream.messages(1, timeout=5)
            assert event.startswith("id: 1\n")

    async_to_sync(scenario)()
    assert live_changes.change_streams_supported() is False
