"""How a process learns that a day's queue changed: the day's version counter, read or watched.

Every change bumps `QueueDayVersion(day)` (see services). On MongoDB deployments with change
streams (a replica set, Atlas) one thread per process and day watches the version collection and
reads the day's version when it is written; a standalone server has no change streams, so the
hub polls instead (as on SQLite), and a watch that fails hands back to the poll for a while.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import date

from django.db import connection

from clinic.db import is_mongodb
from queue_app.models import QueueDayVersion

log = logging.getLogger(__name__)
RETRY_SECONDS = 30.0
AWAIT_MS = 500  # how long one getMore waits on the server; also how soon `stop()` is noticed


WRITES = [{"$match": {"operationType": {"$in": ["insert", "update", "replace"]}}}]


def read_versions(days) -> dict[date, int]:
    """The versions of `days` in one query (0 for a day nothing happened on yet)."""
    found = dict(QueueDayVersion.objects.filter(day__in=list(days)).values_list("day", "version"))
    return {day: found.get(day, 0) for day in days}


def open_change_stream(collection, pipeline):
    """pymongo's change stream on `collection` (the seam the tests replace with a fake)."""
    return collection.watch(pipeline, max_await_time_ms=AWAIT_MS)


_supported: tuple[bool, float] | None = None


def change_streams_supported() -> bool:
    """Whether this MongoDB deployment serves change streams (asked once, again after a while
    when it said no). Standalone servers answer an error: then the hub polls."""
    global _supported
    if not is_mongodb():
        return False
    if _supported is not None and (_supported[0] or time.monotonic() - _supported[1] < 300):
        return _supported[0]
    from pymongo.errors import PyMongoError

    try:
        collection = connection.get_collection(QueueDayVersion._meta.db_table)
        with open_change_stream(collection, []) as stream:
            stream.try_next()
        answer = True
    except (PyMongoError, NotImplementedError) as exc:
        log.info("MongoDB change streams unavailable (%s); live updates poll", exc)
        answer = False
    _supported = (answer, time.monotonic())
    return answer


class ChangeWatch:
    """A thread following one day's version document through a change stream.

    `live` is True while the stream is open; until then, and after a failure, the hub's poll
    covers the day, so no change is missed either way."""

    def __init__(self, day: date, publish: Callable[[int], None]):
        self.day, self.publish = day, publish
        self.live = False
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"live-watch-{day}", daemon=True)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from pymongo.errors import PyMongoError

        try:
            while not self._stop.is_set() and change_streams_supported():
                try:
                    self._watch()
                except PyMongoError as exc:
                    log.warning(
                        "change stream for %s failed (%s); polling meanwhile", self.day, exc
                    )
                    self.live = False
                    self._stop.wait(RETRY_SECONDS)
        finally:
            self.live = False
            connection.close()

    def _watch(self) -> None:
        collection = connection.get_collection(QueueDayVersion._meta.db_table)
        # The version documents change only with the queue; which document holds which day is
        # the backend's business (its `_id` need not be the day), so any change is a reason to
        # read this day's version again, and an unchanged one is not sent on.
        with open_change_stream(collection, WRITES) as stream:
            self.live = True
            # Read once the watch is open: a change between the last poll and now is not lost.
            self.publish(read_versions([self.day])[self.day])
            while not self._stop.is_set():
                if stream.try_next() is not None:
                    self.publish(read_versions([self.day])[self.day])
        self.live = False


def start_watch(day: date, publish: Callable[[int], None]) -> ChangeWatch | None:
    """A change-stream watch of `day` on MongoDB (it finds out itself whether the deployment
    has change streams); None on SQL databases, where the hub's poll is the watcher."""
    if not is_mongodb():
        return None
    watch = ChangeWatch(day, publish)
    watch.thread.start()
    return watch
