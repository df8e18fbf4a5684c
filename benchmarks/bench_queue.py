"""Benchmark the live queue over HTTP: enqueue, a transition and the board read.

    python benchmarks/bench_queue.py [--patients 1000000] [--entries 100000] [--requests 2000]
                                     [--clients 4] [--workers 2] [--db PATH]

Builds a throwaway SQLite file database (migrated by `manage.py migrate`), fills it with
--patients patients and --entries queue entries over past days plus a realistic today (a few
hundred open entries) straight through Django's SQLite connection (`executemany`), starts
gunicorn (`clinic/gunicorn.conf.py`, --workers workers) on 127.0.0.1 and drives it from
--clients processes with keep-alive connections. Prints throughput and p50/p99 latency.
Targets (SQLite, 2 workers): board read p99 < 50 ms, enqueue p99 < 100 ms.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "b" * 40)
TODAY_OPEN, TODAY_DONE = 250, 350
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how Django's SQLite backend stores UTC datetimes
STATUSES = ["waiting", "nurse_completed", "ready_for_doctor", "in_consultation"]


def _rows(connection, model, values: list[dict]):
    """Columns and rows; a field a row leaves out gets its model default, as the ORM gives it."""
    fields = model._meta.concrete_fields
    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in fields]
    rows = [
        tuple(v[f.attname] if f.attname in v else d for f, d in zip(fields, defaults, strict=True))
        for v in values
    ]
    return [f.column for f in fields], rows


def _insert(connection, model, values: list[dict]) -> None:
    columns, rows = _rows(connection, model, values)
    sql = (f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
           f'VALUES ({", ".join("?" * len(columns))})')  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def generate(patients: int, entries: int) -> dict:
    """Bulk rows through Django's own SQLite connection (the ORM would take minutes here)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from clinic.auth import token_create
    from clinic.permissions import sync_roles
    from patients.models import Patient, PatientSearchTerm
    from patients.search_terms import term_rows
    from queue_app.models import DailyTokenCounter, QueueEntry

    rng = random.Random(5)
    now = timezone.now()
    stamp = now.strftime(SQLITE_TIME)
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, patients, 100_000):
            batch = [{"id": f"PAT_{n:08X}", "uhid": str(200_000_000 + n), "name": f"Patient {n}",
                      "age": rng.randint(1, 90), "gender": rng.choice("MFO"),
                      "phone": f"+9198{n:08d}", "created_at": stamp, "updated_at": stamp,
                      "extra": "{}"}
                     for n in range(start, min(start + 100_000, patients))]  # fmt: skip
            _insert(connection, Patient, batch)
            # Their search terms, as every write of a patient keeps them (searches and the
            # duplicate check on create read them).
            searched = [(p["id"], p["name"], p["uhid"], None, p["phone"]) for p in batch]
            _insert(connection, PatientSearchTerm, term_rows(searched))
    today = timezone.localdate()
    past_total = entries - TODAY_OPEN - TODAY_DONE
    past_days = max(1, past_total // 1000)
    per_day = past_total // past_days
    rows, counters, n = [], [], 0
    for day_index in range(past_days, -1, -1):
        day = today - timedelta(days=day_index)
        count = TODAY_OPEN + TODAY_DONE if day_index == 0 else per_day
        if day_index == past_days:
            count += past_total - per_day * past_days  # the remainder, so totals are exact
        base = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
        for token in range(1, count + 1):
            added = base + timedelta(seconds=20 * token)
            status = "completed"
            if day_index == 0 and token > TODAY_DONE:
                status = rng.choice(STATUSES)
            rows.append({"id": f"Q_{n:08X}", "patient_id": f"PAT_{rng.randrange(patients):08X}",
                         "patient_name": "Patient", "day": day.isoformat(), "token_number": token,
                         "priority": rng.choice(["normal"] * 8 + ["urgent", "emergency"]),
                         "status": status, "added_at": added.strftime(SQLITE_TIME),
                         "started_at": None, "nurse_completed_at": None,
                         "timeline_ready_at": None, "consultation_started_at": None,
                         "completed_at": (added + timedelta(minutes=40)).strftime(SQLITE_TIME)
                         if status == "completed" else None,
                         "cancelled_at": None, "doctor_id": None, "room": "",
                         "extra": "{}"})  # fmt: skip
            n += 1
        counters.append({"day": day.isoformat(), "last_token": count})
    with transaction.atomic():
        _insert(connection, QueueEntry, rows)
        _insert(connection, DailyTokenCounter, counters)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        # Into the main file, so the servers measured do not read through a gigabyte of WAL.
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sync_roles()
    tokens = {}
    for role in ("nurse", "doctor"):
        user = get_user_model().objects.create_user(username=f"bench_{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        tokens[role] = token_create(user=user)[1]
    free = [f"PAT_{i:08X}" for i in rng.sample(range(patients), 20_000)]
    print(f"generated {patients:,} patients and {n:,} queue entries "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip
    return {"tokens": tokens, "patients": free}


def _client(args: tuple) -> list[tuple[float, int, bytes]]:
    port, token, requests, barrier = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    barrier.wait()
    out = []
    for method, path, body, *extra in requests:
        started = time.perf_counter()
        conn.request(method, path, body=json.dumps(body) if body else None,
                     headers={**headers, **(extra[0] if extra else {})})  # fmt: skip
        response = conn.getresponse()
        payload = response.read()
        kept = payload if method == "POST" else b""  # entry IDs for the next phase
        out.append((time.perf_counter() - started, response.status, kept))
    conn.close()
    return out


def run_phase(name, port, token, requests, clients, target_ms=None) -> list:
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(clients)
    shares = [(port, token, requests[i::clients], barrier) for i in range(clients)]
    started = time.perf_counter()
    with context.Pool(clients) as pool:
        results = [r for share in pool.map(_client, shares) for r in share]
    wall = time.perf_counter() - started
    latencies = sorted(r[0] * 1000 for r in results)
    statuses = sorted({r[1] for r in results})
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    verdict = "" if target_ms is None else (
        f"  target p99 < {target_ms} ms: {'met' if p99 < target_ms else 'MISSED'}")  # fmt: skip
    print(f"{name:<28} {len(results):>6} req  {len(results) / wall:>8.1f} req/s  "
          f"p50 {p50:>7.2f} ms  p99 {p99:>7.2f} ms  status {statuses}{verdict}")  # fmt: skip
    return results


def start_server(env: dict, workdir: Path, port: int) -> subprocess.Popen:
    """gunicorn as `bin/serve` runs it (uvicorn workers), its log in `workdir`, once listening."""
    log = (workdir / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--config", "clinic/gunicorn.conf.py",
         "clinic.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    log.close()  # the server holds its own copy
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", help="SQLite file to build (default: a temporary one)")
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    db = Path(options.db) if options.db else workdir / "bench.db"
    if db.exists():
        parser.error(f"{db} exists; the benchmark builds a fresh database")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECURE_SSL_REDIRECT": "0",
           "DEBUG": "0", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(options.workers),
           "ACCESS_LOG": "/dev/null", "LOG_LEVEL": "WARNING"}  # fmt: skip
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    seeded = generate(options.patients, options.entries)
    server = start_server(env, workdir, port)
    try:
        nurse, doctor = seeded["tokens"]["nurse"], seeded["tokens"]["doctor"]
        count, clients = options.requests, options.clients
        api = "/api/v1/queue/"
        print(f"\nSQLite, gunicorn {options.workers} uvicorn workers, {clients} client "
              f"processes with keep-alive, {count} requests per phase")  # fmt: skip
        run_phase("warm-up board read", port, nurse, [("GET", f"{api}board/", None)] * 50, clients)
        run_phase("board read (200, ~250 open)", port, doctor,
                  [("GET", f"{api}board/", None)] * count, clients, target_ms=50)  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", f"{api}board/", headers={"Authorization": f"Token {doctor}"})
        response = conn.getresponse()
        response.read()
        unchanged = {"If-None-Match": response.getheader("ETag")}
        run_phase("board poll (304 Not Modified)", port, doctor,
                  [("GET", f"{api}board/", None, unchanged)] * count, clients)  # fmt: skip
        created = run_phase("enqueue", port, nurse,
                            [("POST", api, {"patient": p}) for p in seeded["patients"][:count]],
                            clients, target_ms=100)  # fmt: skip
        ids = [json.loads(body)["id"] for _, status, body in created if status == 201]
        run_phase("transition nurse-complete", port, nurse,
                  [("POST", f"{api}{i}/nurse-complete/", None) for i in ids], clients)  # fmt: skip
        run_phase(f"board read (200, ~{250 + len(ids)} open)", port, doctor,
                  [("GET", f"{api}board/", None)] * (count // 4), clients)  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
