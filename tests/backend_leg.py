"""Pytest plugin choosing the database leg before Django starts.

`CLINIC_TEST_DB=mongodb` starts a throwaway MongoDB wire-compatible server (secantusdb, a
test-only dependency run as its own process, never imported) on a free 127.0.0.1 port and
points DATABASE_URL at it; the default leg is SQLite.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

LEG = os.environ.get("CLINIC_TEST_DB", "sqlite")
# Settings refuse to start without a key when DEBUG is off; the tests (and the servers they
# start) run with a throwaway one.
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "k" * 40)
_server: subprocess.Popen | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _server.poll() is not None:
            raise RuntimeError(f"secantusd-py exited with code {_server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"secantusd-py did not listen on 127.0.0.1:{port} within {timeout}s")


def _stop_server() -> None:
    if _server and _server.poll() is None:
        _server.send_signal(signal.SIGTERM)
        try:
            _server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _server.kill()


def start_mongodb_server() -> str:
    global _server
    exe = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    port = _free_port()
    _server = subprocess.Popen(
        [
            exe,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
    )
    atexit.register(_stop_server)
    _wait_until_listening(port)
    return f"mongodb://127.0.0.1:{port}/clinic"


if LEG == "mongodb" and not os.environ.get("DATABASE_URL", "").startswith("mongodb"):
    os.environ["DATABASE_URL"] = start_mongodb_server()
elif LEG == "sqlite":
    os.environ.pop("DATABASE_URL", None)
elif LEG != "mongodb":
    raise pytest.UsageError(f"CLINIC_TEST_DB must be 'sqlite' or 'mongodb', not {LEG!r}")


def pytest_report_header(config):
    return f"database leg: {LEG} ({os.environ.get('DATABASE_URL', 'sqlite')})"


def pytest_collection_modifyitems(config, items):
    """Tests marked for one leg are skipped on the other, with the reason in the report."""
    other = {"sqlite": "mongodb_only", "mongodb": "sqlite_only"}[LEG]
    for item in items:
        marker = item.get_closest_marker(other)
        if marker:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"{other.replace('_', ' ')}: {reason}"))


def pytest_unconfigure(config):
    _stop_server()
