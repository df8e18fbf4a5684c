"""Server-sent events for the live board and display, and ETag checks for the polling fallback.

A stream is an async generator waiting on its day's feed (`live_hub`): it holds no thread, and a
change reaches every open stream of the process at once. It sends the current version first,
then one event per change, a heartbeat when quiet, and ends after `QUEUE_STREAM_SECONDS`, when
the server shuts down, or when the login that opened it ends; EventSource reconnects by itself.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date

from django.conf import settings
from django.http import StreamingHttpResponse

from queue_app import live_hub

HEARTBEAT_SECONDS = 15


def stream_seconds() -> float:
    return float(getattr(settings, "QUEUE_STREAM_SECONDS", 600))


def _event(day: date, version: int) -> str:
    data = json.dumps({"day": day.isoformat(), "version": version})
    return f"id: {version}\nevent: queue\ndata: {data}\n\n"


async def version_events(
    *, day: date, subscriber: live_hub.Subscriber, last_seen: str = ""
) -> AsyncIterator[str]:
    hub = live_hub.hub()
    loop = asyncio.get_running_loop()
    try:
        feed = await hub.join(day, subscriber)
        yield "retry: 1000\n\n"
        deadline = loop.time() + stream_seconds()
        sent = last_seen
        while not subscriber.closed:
            subscriber.wake.clear()
            if feed.version is not None and str(feed.version) != sent:
                sent = str(feed.version)
                yield _event(day, feed.version)
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                async with asyncio.timeout(min(HEARTBEAT_SECONDS, remaining)):
                    await subscriber.wake.wait()
            except TimeoutError:
                if loop.time() < deadline:
                    yield ": heartbeat\n\n"  # keeps proxies from closing an idle stream
    finally:
        hub.leave(day, subscriber)
        if subscriber.lease_id:  # in the background: the response ends now
            hub.release_leases([subscriber.lease_id])


def event_stream_response(request, *, day: date, subscriber) -> StreamingHttpResponse:
    last_seen = request.headers.get("Last-Event-ID", "")
    response = StreamingHttpResponse(
        version_events(day=day, subscriber=subscriber, last_seen=last_seen),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


def not_modified(request, etag: str) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return etag in {tag.strip() for tag in sent.split(",")} or sent.strip() == "*"
