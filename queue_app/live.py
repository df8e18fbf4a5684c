"""Server-sent events for the live board and display, and ETag checks for the polling fallback.

A stream polls the day's version counter (one primary-key read) every half second and sends
an event when it moves; clients then fetch what they show. Streams end after a bounded
lifetime so gunicorn threads are freed; EventSource reconnects by itself (`retry`).
"""

import json
from collections.abc import Iterator
from datetime import date
from time import monotonic, sleep

from django.conf import settings
from django.http import StreamingHttpResponse

from queue_app.selectors import queue_version

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15


def stream_seconds() -> float:
    return float(getattr(settings, "QUEUE_STREAM_SECONDS", 120))


def version_events(*, day: date, last_seen: str = "") -> Iterator[str]:
    yield "retry: 1000\n\n"
    deadline = monotonic() + stream_seconds()
    last_version, quiet_since = last_seen, monotonic()
    while True:
        version = str(queue_version(day=day))
        if version != last_version:
            last_version, quiet_since = version, monotonic()
            data = json.dumps({"day": day.isoformat(), "version": int(version)})
            yield f"id: {version}\nevent: queue\ndata: {data}\n\n"
        elif monotonic() - quiet_since >= HEARTBEAT_SECONDS:
            quiet_since = monotonic()
            yield ": heartbeat\n\n"  # keeps proxies from closing an idle stream
        if monotonic() >= deadline:
            return
        sleep(POLL_SECONDS)


def event_stream_response(request, *, day: date) -> StreamingHttpResponse:
    last_seen = request.headers.get("Last-Event-ID", "")
    response = StreamingHttpResponse(
        version_events(day=day, last_seen=last_seen), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


def not_modified(request, etag: str) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return etag in {tag.strip() for tag in sent.split(",")} or sent.strip() == "*"
