"""Stopping the server as an operator does ends its open live streams at once."""

import signal
import threading
import time
import urllib.request

import pytest


@pytest.mark.slow
@pytest.mark.sqlite_only("the worker's signal handling is the same on both legs")
@pytest.mark.parametrize(
    "sig",
    [signal.SIGTERM, signal.SIGINT],
    ids=["graceful (SIGTERM, systemd, docker stop)", "quick (SIGINT, SIGQUIT)"],
)
def test_stopping_the_server_ends_open_streams_at_once(tmp_path, sig):
    from tests.queue_app.gunicorn_harness import gunicorn_server

    ended = []

    def watch(url, token):
        request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.readline()  # the stream is open
            opened.release()
            while response.readline():
                pass
        ended.append(time.monotonic())

    with gunicorn_server(tmp_path, patients=1, workers=2) as server:
        opened = threading.Semaphore(0)
        url = f"{server['url']}/api/v1/queue/stream/"
        watchers = [
            threading.Thread(target=watch, args=(url, server["tokens"]["nurse"]), daemon=True)
            for _ in range(3)
        ]
        for watcher in watchers:
            watcher.start()
        for _ in watchers:
            assert opened.acquire(timeout=30)
        stopped = time.monotonic()
        server["process"].send_signal(sig)
        server["process"].wait(timeout=60)
        took = time.monotonic() - stopped
        for watcher in watchers:
            watcher.join(timeout=5)
    assert len(ended) == 3
    assert took < 5, f"the server took {took:.1f} s to stop"  # it waited 30 s before the fix
