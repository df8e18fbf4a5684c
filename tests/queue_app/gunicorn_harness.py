"""A migrated throwaway database on this test leg and a real gunicorn serving it on 127.0.0.1."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.backend_leg import LEG

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
TOOL = "tests/queue_app/live_server_tool.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tool(env, *args) -> dict:
    out = subprocess.run([PYTHON, TOOL, *args], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return json.loads(out.stdout)


@contextmanager
def gunicorn_server(
    workdir: Path,
    *,
    patients: int,
    workers: int = 4,
    threads: int = 4,
    pages: bool = False,
    settings: dict[str, str] | None = None,
):
    """A gunicorn server as bin/serve starts it, on a fresh database of `patients`;
    `settings` are extra environment settings for the server."""
    if LEG == "sqlite":
        url = f"sqlite:///{workdir / 'queue.db'}"  # a file: gunicorn's workers share it
    else:
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/load_{secrets.token_hex(4)}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "BIND": f"127.0.0.1:{port}", "DEBUG": "0",
           "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
           "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads),
           "ACCESS_LOG": "/dev/null", "LOG_LEVEL": "WARNING",
           "QUEUE_STREAM_SECONDS": "30", "STATIC_ROOT": str(workdir / "static"),
           **(settings or {})}  # fmt: skip
    if pages:  # admin pages need the static manifest that production builds
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT,
                       env=env, check=True)  # fmt: skip
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                   check=True)  # fmt: skip
    seeded = _tool(env, "seed", str(patients))
    log_path = workdir / "gunicorn.log"
    with log_path.open("w") as log:
        # The log goes to a file: an unread pipe fills up and stalls the server.
        server = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "--config", "clinic/gunicorn.conf.py",
             "clinic.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text()[-3000:]) from None
                    time.sleep(0.2)
            yield {"url": f"http://127.0.0.1:{port}", "dump": lambda: _tool(env, "dump"),
                   "process": server, **seeded}  # fmt: skip
        finally:
            # SIGINT: quick shutdown; a graceful one would wait for open event streams.
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker stuck on a slow request: end them all
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)
            print(log_path.read_text()[-3000:])  # shown when a test fails
