"""The live streams through the real ASGI application (clinic.asgi), in-process."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client
from knox.models import AuthToken

from queue_app import live, live_changes, live_hub
from queue_app.models import LiveStreamLease
from queue_app.services import queue_enqueue
from tests.conftest import PASSWORD
from tests.factories import PatientFactory
from tests.queue_app.asgi_driver import streams

STREAM = "/api/v1/queue/stream/"
DISPLAY_STREAM = "/queue/display/stream/"


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


def auth(user) -> dict:
    _, key = AuthToken.objects.create(user)
    return {"authorization": f"Token {key}"}


def session_cookie(user) -> dict:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return {"cookie": f"sessionid={client.cookies['sessionid'].value}"}


def event_version(message: str) -> int:
    lines = message.split("\n")
    assert lines[1] == "event: queue", message
    return json.loads(lines[2].removeprefix("data: "))["version"]


enqueue = sync_to_async(lambda nurse: queue_enqueue(patient_id=PatientFactory().pk, by=nurse))


@pytest.fixture(autouse=True)
def fast_live(monkeypatch):
    monkeypatch.setattr(live_hub, "POLL_SECONDS", 0.05)


def test_stream_sends_the_current_version_then_each_change(records, nurse):
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    headers = auth(records)

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, headers=headers)
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-cache"
            assert stream.headers["x-accel-buffering"] == "no"
            retry, first = await stream.messages(2)
            assert retry == "retry: 1000" and first.startswith("id: 1\n")
            assert event_version(first) == 1
            await enqueue(nurse)
            (second,) = await stream.messages(1, timeout=5)
            assert second.startswith("id: 2\n") and event_version(second) == 2

    run(scenario)


def test_one_watcher_per_day_wakes_every_stream_with_one_poll(records, nurse, monkeypatch):
    reads = []
    real_read = live_changes.read_versions
    monkeypatch.setattr(
        live_changes, "read_versions", lambda days: reads.append(1) or real_read(days)
    )
    # The poll path (SQLite's, and MongoDB's without change streams): test_live_changes.py has
    # the change-stream one.
    monkeypatch.setattr(live_changes, "start_watch", lambda day, publish: None)
    headers = auth(records)

    async def scenario():
        async with streams() as open_stream:
            opened = [await open_stream(STREAM, headers=headers) for _ in range(5)]
            opened += [await open_stream(DISPLAY_STREAM, headers=session_cookie_async)]
            for stream in opened:
                await stream.messages(2)  # retry, version 0
            hub = live_hub.hub()
            assert len(hub.feeds) == 1 and len(next(iter(hub.feeds.values())).subscribers) == 6
            reads.clear()
            await asyncio.sleep(0.5)  # ten ticks of the poll
            assert 5 <= len(reads) <= 12, reads  # one read per tick for all six streams
            await enqueue(nurse)
            for stream in opened:
                (event,) = await stream.messages(1, timeout=5)
                assert event_version(event) == 1

    session_cookie_async = session_cookie(records)
    monkeypatch.setattr(live_hub, "LEASE_RENEW_SECONDS", 999)
    from django.conf import settings

    monkeypatch.setattr(settings, "QUEUE_STREAMS_PER_USER", 10)
    run(scenario)


def test_resume_from_last_event_id_is_quiet_and_beats(records, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    headers = {**auth(records), "last-event-id": "0"}

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, headers=headers)
            assert await stream.messages(2) == ["retry: 1000", ": heartbeat"]

    run(scenario)


def test_stream_ends_after_its_lifetime(records, settings):
    settings.QUEUE_STREAM_SECONDS = 0.3
    headers = auth(records)

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, headers=headers)
            assert await stream.ends_within(3)
            assert "event: queue" in stream.buffer

    run(scenario)


def test_stream_needs_a_role_and_answers_with_the_error_body(no_role, db):
    headers = auth(no_role)

    async def scenario():
        async with streams() as open_stream:
            anonymous = await open_stream(STREAM, expect=401)
            body = json.loads(await anonymous.body())
            assert body["error"]["code"] == "not_authenticated"
            assert anonymous.headers["www-authenticate"] == "Token"
            await open_stream(STREAM, headers=headers, expect=403)
            bad_day = await open_stream(STREAM, query="day=monday", headers=headers, expect=403)
            assert json.loads(await bad_day.body())["error"]["code"] == "permission_denied"
            await open_stream(DISPLAY_STREAM, expect=403)

    run(scenario)


def test_a_bad_day_is_a_clear_400(records):
    headers = auth(records)

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(STREAM, query="day=monday", headers=headers, expect=400)
            error = json.loads(await stream.body())["error"]
            assert error["fields"] == {"day": ["Give the day as YYYY-MM-DD."]}

    run(scenario)


def test_display_token_streams_without_login(db, settings):
    settings.QUEUE_DISPLAY_TOKEN = "tv-lobby-7f3a"

    async def scenario():
        async with streams() as open_stream:
            stream = await open_stream(DISPLAY_STREAM, query="token=tv-lobby-7f3a")
            assert (await stream.messages(2))[1].startswith("id: 0\n")
            await open_stream(DISPLAY_STREAM, query="token=guess", expect=403)

    run(scenario)


def test_per_user_cap_answers_429_and_a_closed_stream_frees_its_place(records, settings):
    settings.QUEUE_STREAMS_PER_USER = 2
    headers, cookie = auth(records), session_cookie(records)

    async def scenario():
        async with streams() as open_stream:
            first = await open_stream(STREAM, headers=headers)
            await open_stream(DISPLAY_STREAM, headers=cookie)  # the display counts too
            over = await open_stream(STREAM, headers=headers, expect=429)
            error = json.loads(await over.body())["error"]
            assert error["code"] == "throttled" and "2 live updates" in error["message"]
            over = await open_stream(DISPLAY_STREAM, headers=cookie, expect=429)
            assert json.loads(await over.body())["error"]["code"] == "throttled"
            await first.messages(2)
            await first.close()
            count = sync_to_async(LiveStreamLease.objects.count)
            for _ in range(100):  # the lease goes back in the background
                if await count() == 1:
                    break
                await asyncio.sleep(0.02)
            assert await count() == 1
            await open_stream(STREAM, headers=headers)

    run(scenario)
    assert LiveStreamLease.objects.count() == 0  # every stream gave its lease back


def test_streams_of_a_deleted_token_or_ended_session_are_closed(records, nurse):
    token_headers, cookie = auth(records), session_cookie(nurse)
    other = auth(nurse)

    async def scenario():
        async with streams() as open_stream:
            by_token = await open_stream(STREAM, headers=token_headers)
            by_session = await open_stream(STREAM, headers=cookie)
            display = await open_stream(DISPLAY_STREAM, headers=cookie)
            untouched = await open_stream(STREAM, headers=other)
            for stream in (by_token, by_session, display, untouched):
                await stream.messages(2)
            await live_hub.hub().recheck()
            assert not by_token.finished and not by_session.finished
            await sync_to_async(AuthToken.objects.filter(user=records).delete)()
            from django.contrib.sessions.models import Session

            await sync_to_async(Session.objects.all().delete)()  # the nurse logs out
            await live_hub.hub().recheck()
            for stream in (by_token, by_session, display):
                assert await stream.ends_within(3)
            assert not await untouched.ends_within(0.3)

    run(scenario)


def test_server_shutdown_ends_every_stream_at_once(records):
    headers = auth(records)

    async def scenario():
        async with streams() as open_stream:
            opened = [await open_stream(STREAM, headers=headers) for _ in range(3)]
            for stream in opened:
                await stream.messages(2)
            live_hub.close_all()
            for stream in opened:
                assert await stream.ends_within(1)
            refused = await open_stream(STREAM, headers=headers, expect=503)
            assert json.loads(await refused.body())["error"]["code"] == "unavailable"

    run(scenario)
