"""Drive the real ASGI application (clinic.asgi) in-process, as uvicorn would: one open stream."""

import asyncio
from contextlib import asynccontextmanager

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


class AsgiStream:
    def __init__(self, app, path: str, query: str = "", headers: dict | None = None):
        self.scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": query.encode(), "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }  # fmt: skip
        self.app, self.sent = app, asyncio.Queue()
        self.disconnected, self.body_sent = asyncio.Event(), False
        self.status, self.headers, self.buffer, self.finished = None, {}, "", False

    async def receive(self):
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        await self.sent.put(message)

    async def open(self, timeout: float = 10) -> int:
        self.task = asyncio.get_running_loop().create_task(
            self.app(self.scope, self.receive, self.send)
        )
        message = await asyncio.wait_for(self.sent.get(), timeout)
        assert message["type"] == "http.response.start", message
        self.status = message["status"]
        self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        return self.status

    async def _more(self, timeout: float) -> bool:
        message = await asyncio.wait_for(self.sent.get(), timeout)
        self.buffer += message.get("body", b"").decode()
        if not message.get("more_body", False):
            self.finished = True
        return not self.finished

    async def messages(self, count: int, timeout: float = 10) -> list[str]:
        """The next `count` SSE messages (blank-line separated)."""
        found = []
        while len(found) < count:
            while "\n\n" in self.buffer and len(found) < count:
                message, self.buffer = self.buffer.split("\n\n", 1)
                found.append(message)
            if len(found) < count:
                if self.finished:
                    raise AssertionError(f"stream ended after {found}")
                await self._more(timeout)
        return found

    async def body(self, timeout: float = 10) -> str:
        while not self.finished:
            await self._more(timeout)
        return self.buffer

    async def ends_within(self, timeout: float) -> bool:
        try:
            while not self.finished:
                await self._more(timeout)
        except TimeoutError:
            return False
        return True

    async def close(self):
        self.disconnected.set()
        try:
            await asyncio.wait_for(self.task, 10)
        except (asyncio.CancelledError, TimeoutError):
            pass


@asynccontextmanager
async def streams():
    """Open streams with `open_stream(path, ...)`; all are disconnected on the way out."""
    from clinic.asgi import ClinicASGIHandler

    app, opened = ClinicASGIHandler(), []
    # As Django's test client does: the test's database connection must stay open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    async def open_stream(path, query="", headers=None, expect=200):
        stream = AsgiStream(app, path, query, {"accept": "text/event-stream", **(headers or {})})
        opened.append(stream)
        status = await stream.open()
        assert status == expect, (status, await stream.body())
        return stream

    try:
        yield open_stream
    finally:
        for stream in opened:
            await stream.close()
        from queue_app import live_hub

        await live_hub.settle()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
