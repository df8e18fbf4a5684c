"""Benchmark live updates: 1,000 open server-sent event streams against the server bin/serve runs.

    python benchmarks/bench_live.py [--streams 1000] [--patients 100000] [--enqueues 20]
                                    [--workers 2] [--db PATH]

Builds a throwaway SQLite file (as bench_queue.py does), starts gunicorn with
`clinic/gunicorn.conf.py` and `clinic.asgi:application` (exactly bin/serve's command), makes
--streams / 5 staff users (5 streams each: the default per-user cap) and opens every stream from
a separate client process (asyncio, one socket per stream). Prints, in one run:

- enqueue -> event latency at every client (p50 / p99 / max; goal p99 < 1 s),
- patients-list p99 at one client without and with the streams open (goal <= 1.5x, < 100 ms),
- server memory per open stream (worker RSS growth / streams),
- that a user's 6th stream is refused (429), and how long shutdown takes with the streams open.
"""

import argparse
import asyncio
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "b" * 40)
PER_USER = 5
STREAM = "/api/v1/queue/stream/"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# The stream clients (a child process) ---------------------------------------------------------
async def _one_stream(port, token, arrivals, closed, ready, errors):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {STREAM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                     f"Authorization: Token {token}\r\n\r\n".encode())  # fmt: skip
        status = (await reader.readline()).split()[1].decode()
        if status != "200":
            errors.append(status)
            writer.close()
            return
        first = True
        while line := await reader.readline():
            if line.startswith(b"id: "):
                arrivals.setdefault(int(line[4:]), []).append(time.monotonic())
                if first:
                    first = False
                    ready.append(1)
        closed.append(time.monotonic())
    except OSError as exc:
        errors.append(type(exc).__name__)


async def _clients(port: int, tokens: list[str]) -> None:
    arrivals, closed, ready, errors = {}, [], [], []
    tasks = []
    for index, token in enumerate(tokens):
        for _ in range(PER_USER):
            tasks.append(asyncio.create_task(
                _one_stream(port, token, arrivals, closed, ready, errors)))  # fmt: skip
        if index % 10 == 9:
            await asyncio.sleep(0.05)  # open them over a few seconds, as screens would
    expected = len(tokens) * PER_USER
    deadline = time.monotonic() + 120
    while len(ready) + len(errors) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    print(json.dumps({"ready": len(ready), "errors": errors}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "report"
    print(json.dumps({str(v): times for v, times in arrivals.items()}), flush=True)
    deadline = time.monotonic() + 60
    while len(closed) + len(errors) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print(json.dumps({"closed": closed}), flush=True)
    for task in tasks:
        task.cancel()


# The benchmark --------------------------------------------------------------------------------
def make_users(count: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from knox.models import AuthToken

    records = Group.objects.get(name="records")
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"screen_{n}", is_staff=True) for n in range(count)]
    )
    users = list(get_user_model().objects.filter(username__startswith="screen_"))
    records.user_set.add(*users)
    return [AuthToken.objects.create(user)[1] for user in users]


def worker_rss_kb(master: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def timed_get(conn, path, token) -> float:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000


def list_p99(port, token, requests=300) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(20):
        timed_get(conn, "/api/v1/patients/", token)
    times = [timed_get(conn, "/api/v1/patients/", token) for _ in range(requests)]
    conn.close()
    return statistics.median(times), pct(times, 0.99)


def post(port, token, path, body) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def stream_status(port, token) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", STREAM, headers={"Authorization": f"Token {token}"})
    status = conn.getresponse().status
    conn.close()
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--enqueues", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", help="SQLite file to build (default: a temporary one)")
    parser.add_argument("--stream-clients", help=argparse.SUPPRESS)  # the child process
    options = parser.parse_args()
    if options.stream_clients:
        port, tokens = json.loads(options.stream_clients)
        asyncio.run(_clients(port, tokens))
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    db = Path(options.db) if options.db else workdir / "bench.db"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECURE_SSL_REDIRECT": "0",
           "DEBUG": "0", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(options.workers),
           "ACCESS_LOG": "/dev/null", "LOG_LEVEL": "WARNING"}  # fmt: skip
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    import bench_queue

    seeded = bench_queue.generate(options.patients, 2_000)
    tokens = make_users(options.streams // PER_USER)
    nurse, doctor = seeded["tokens"]["nurse"], seeded["tokens"]["doctor"]
    server = bench_queue.start_server(env, workdir, port)
    clients = None
    try:
        time.sleep(1)
        quiet_p50, quiet_p99 = list_p99(port, doctor)
        rss_before = worker_rss_kb(server.pid)
        clients = subprocess.Popen(
            [sys.executable, __file__, "--stream-clients", json.dumps([port, tokens])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        opened = json.loads(clients.stdout.readline())
        time.sleep(2)
        rss_after = worker_rss_kb(server.pid)
        over_cap = stream_status(port, tokens[0])
        busy_p50, busy_p99 = list_p99(port, doctor)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/v1/queue/board/", headers={"Authorization": f"Token {nurse}"})
        version = json.loads(conn.getresponse().read())["version"]
        sent = {}
        for patient in seeded["patients"][: options.enqueues]:
            sent[version + 1] = time.monotonic()
            status, _ = post(port, nurse, "/api/v1/queue/", {"patient": patient})
            assert status == 201, status
            version += 1
            time.sleep(0.5)
        time.sleep(2)
        clients.stdin.write("report\n")
        clients.stdin.flush()
        arrivals = json.loads(clients.stdout.readline())
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        closed = json.loads(clients.stdout.readline())["closed"]
        server.wait(timeout=60)
        stopped = time.monotonic()
        from queue_app.models import LiveStreamLease

        leases_left = LiveStreamLease.objects.count()
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        if clients is not None and clients.poll() is None:
            clients.kill()

    latencies, missing = [], 0
    for v, t0 in sent.items():
        times = arrivals.get(str(v), [])
        missing += opened["ready"] - len(times)
        latencies += [(t - t0) * 1000 for t in times]
    streams = opened["ready"]
    print(f"\nSQLite, {options.patients:,} patients, gunicorn {options.workers} uvicorn workers "
          f"(bin/serve's command), {streams} of {options.streams} streams open "
          f"({len(opened['errors'])} refused: {sorted(set(opened['errors']))}), "
          f"{options.enqueues} enqueues 0.5 s apart\n")  # fmt: skip
    print("| measure | value | goal |\n|---|---|---|")
    print(f"| enqueue → event at every client, p50 / p99 / max | {statistics.median(latencies):.0f}"
          f" / {pct(latencies, 0.99):.0f} / {max(latencies):.0f} ms ({len(latencies):,} events, "
          f"{missing} missed) | p99 < 1 s |")  # fmt: skip
    print(f"| patients list p50 / p99, no streams | {quiet_p50:.1f} / {quiet_p99:.1f} ms | |")
    print(f"| patients list p50 / p99, {streams} streams open | {busy_p50:.1f} / {busy_p99:.1f} ms"
          f" ({busy_p99 / quiet_p99:.2f}×) | ≤ 1.5×, < 100 ms |")  # fmt: skip
    print(f"| server memory per open stream | {(rss_after - rss_before) / max(streams, 1):.1f} kB"
          f" (workers {rss_before / 1024:.0f} → {rss_after / 1024:.0f} MB) | |")  # fmt: skip
    print(f"| a 6th stream of one user | HTTP {over_cap} | 429 |")
    last = max(closed) - stopping if closed else float("nan")
    print(f"| shutdown (SIGTERM): all streams ended / server exited | {last:.2f} s / "
          f"{stopped - stopping:.2f} s | at once |")  # fmt: skip
    print(f"| stream leases left after shutdown | {leases_left} | 0 |")


if __name__ == "__main__":
    main()
