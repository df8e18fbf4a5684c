"""gunicorn's uvicorn worker, ending the live-update streams as soon as shutdown begins.

uvicorn waits for open responses before it stops; a server-sent event stream never finishes by
itself, so each stream is told to end first (the browsers reconnect to the next server).

gunicorn's quick shutdown (SIGINT or SIGQUIT to the master) sends the workers SIGQUIT, which
uvicorn-worker only notes (`alive = False`): the worker served on until gunicorn killed it
after `graceful_timeout` (30 s). Here SIGQUIT starts the same shutdown as SIGTERM."""

import asyncio
import signal
import sys

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker


class StreamClosingServer(Server):
    async def shutdown(self, sockets=None):
        from queue_app.live_hub import close_all, settle

        for server in self.servers:  # stop accepting first: reconnects go to another worker
            server.close()
        close_all()
        await settle()  # the users' stream leases are given back before the process ends
        await super().shutdown(sockets=sockets)


class ClinicUvicornWorker(UvicornWorker):
    CONFIG_KWARGS = {"loop": "auto", "http": "auto", "lifespan": "off", "server_header": False}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = self.cfg.graceful_timeout

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = StreamClosingServer(config=self.config)
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGQUIT, setattr, server, "should_exit", True
        )
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
