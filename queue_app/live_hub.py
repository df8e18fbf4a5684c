"""One watcher per server process and clinic day, fanning the day's version out to every stream.

Each open stream is a `Subscriber` (an event and a flag): it costs memory, no thread. A `DayFeed`
holds the day's last known version; a change wakes all its subscribers at once. Feeds learn of
changes from a MongoDB change stream on the version collection when the deployment offers change
streams (replica set, Atlas), otherwise from one poll per process of all watched days' versions
(one primary-key read each `POLL_SECONDS`). `close_all()` ends every stream at once (server
shutdown); `recheck()` closes the streams whose session or token has ended.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from asgiref.sync import sync_to_async

from queue_app import live_changes

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25
RECHECK_SECONDS = 15.0
LEASE_RENEW_SECONDS = 20.0
# Database work of the live code (polls, stream gates, leases) runs here, beside the request thread.
EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="live-db")


# Tests set this: their data sits in the test thread's open transaction, which other threads'
# connections cannot see.
RUN_IN_REQUEST_THREAD = False


def in_thread(func: Callable) -> Callable:
    """`func` as a coroutine run on the live threads (sync ORM code, contextvars carried over)."""
    if RUN_IN_REQUEST_THREAD:
        return sync_to_async(func, thread_sensitive=True)
    return sync_to_async(func, thread_sensitive=False, executor=EXECUTOR)


class Subscriber:
    __slots__ = ("wake", "closed", "recheck", "lease_id", "__weakref__")

    def __init__(self, recheck: Callable[[], bool] | None = None, lease_id: str = ""):
        self.wake = asyncio.Event()
        self.closed = False
        self.recheck = recheck  # True while the credentials that opened the stream still hold
        self.lease_id = lease_id

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class DayFeed:
    def __init__(self, day: date):
        self.day = day
        self.version: int | None = None
        self.subscribers: set[Subscriber] = set()
        self.changes: live_changes.ChangeWatch | None = None  # None: the poll covers this day

    def publish(self, version: int) -> None:
        if version == self.version:
            return
        self.version = version
        for subscriber in self.subscribers:
            subscriber.wake.set()


class Hub:
    """The process's live state, bound to one event loop (tests make new loops: a new hub)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.feeds: dict[date, DayFeed] = {}
        self.closing = False
        self._poller: asyncio.Task | None = None
        self._keeper: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()

    # Subscriptions -------------------------------------------------------------------------
    async def join(self, day: date, subscriber: Subscriber) -> DayFeed:
        feed = self.feeds.get(day)
        if feed is None:
            feed = self.feeds[day] = DayFeed(day)
            feed.changes = live_changes.start_watch(day, self._threadsafe_publisher(feed))
        feed.subscribers.add(subscriber)
        if feed.version is None:  # a new feed: its first stream needs the version now
            feed.publish((await in_thread(live_changes.read_versions)([day]))[day])
        self._ensure_tasks()
        return feed

    def leave(self, day: date, subscriber: Subscriber) -> None:
        feed = self.feeds.get(day)
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        if not feed.subscribers:
            del self.feeds[day]
            if feed.changes is not None:
                feed.changes.stop()

    def subscribers(self) -> list[Subscriber]:
        return [s for feed in self.feeds.values() for s in feed.subscribers]

    def close_all(self) -> None:
        """End every open stream now (server shutdown); new ones are refused from here on."""
        self.closing = True
        subscribers = self.subscribers()
        self.release_leases([s.lease_id for s in subscribers if s.lease_id])  # one delete
        for subscriber in subscribers:
            subscriber.lease_id = ""
            subscriber.close()

    def release_leases(self, lease_ids: list[str]) -> None:
        """Give the users' stream leases back, in the background (the streams end meanwhile)."""
        from queue_app import live_leases

        if lease_ids:
            task = self.loop.create_task(_quietly(in_thread(live_leases.release), lease_ids))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # Watching ------------------------------------------------------------------------------
    def _threadsafe_publisher(self, feed: DayFeed) -> Callable[[int], None]:
        def publish(version: int) -> None:
            try:
                self.loop.call_soon_threadsafe(feed.publish, version)
            except RuntimeError:  # the loop has closed: the process is ending
                pass

        return publish

    def _ensure_tasks(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = self.loop.create_task(self._poll())
        if self._keeper is None or self._keeper.done():
            self._keeper = self.loop.create_task(self._keep())

    async def _poll(self) -> None:
        """One read of all polled days' versions per tick, for the whole process."""
        read = in_thread(live_changes.read_versions)
        while self.feeds and not self.closing:
            await asyncio.sleep(POLL_SECONDS)
            polled = [d for d, f in self.feeds.items() if f.changes is None or not f.changes.live]
            if not polled:
                continue
            try:
                versions = await read(polled)
            except Exception:  # a database hiccup: keep the streams, try again next tick
                log.exception("live poll failed")
                continue
            for day, version in versions.items():
                if day in self.feeds:
                    self.feeds[day].publish(version)

    async def _keep(self) -> None:
        """Renew this process's stream leases and close streams whose login has ended."""
        from queue_app import live_leases

        loop, last_check, last_renew = self.loop, self.loop.time(), self.loop.time()
        while self.feeds and not self.closing:
            await asyncio.sleep(1)
            now = loop.time()
            if now - last_renew >= LEASE_RENEW_SECONDS:
                last_renew = now
                leases = [s.lease_id for s in self.subscribers() if s.lease_id]
                if leases:
                    await _quietly(in_thread(live_leases.renew), leases)
            if now - last_check >= RECHECK_SECONDS:
                last_check = now
                await self.recheck()

    async def recheck(self) -> None:
        """Ask each stream's credentials again (grouped: one check per distinct credential)."""
        checks: dict[object, list[Subscriber]] = {}
        for subscriber in self.subscribers():
            if subscriber.recheck is not None:
                checks.setdefault(subscriber.recheck, []).append(subscriber)
        for check, group in checks.items():
            still_valid = await _quietly(in_thread(check))
            if still_valid is False:
                for subscriber in group:
                    subscriber.close()


async def _quietly(coroutine_function, *args):
    try:
        return await coroutine_function(*args)
    except Exception:
        log.exception("live upkeep failed")
        return None


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub for the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    with _hub_lock:
        if _hub is None or _hub.loop is not loop:
            _hub = Hub(loop)
        return _hub


def close_all() -> None:
    """End every open stream of this process at once (called when the server shuts down)."""
    if _hub is not None:
        _hub.close_all()


async def settle(timeout: float = 2.0) -> None:
    """Wait (a little) for the hub's background work, e.g. the leases given back at shutdown."""
    if _hub is not None and _hub._background:
        await asyncio.wait(list(_hub._background), timeout=timeout)
