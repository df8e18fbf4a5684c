"""Benchmark the patients API against a bare DRF ModelViewSet on the same table, in one run.

    python benchmarks/bench_api.py [--database sqlite|mongodb] [--patients 1000000]
                                   [--concurrency 1,4,16] [--rounds 3] [--seconds 4]
                                   [--workers 2] [--db PATH] [--mongodb-url URL]

Builds a throwaway database with --patients patients (SQLite: a file filled with executemany
as bench_queue.py does; MongoDB: a fresh database at --mongodb-url, default $DATABASE_URL, filled
with bulk inserts), starts the server exactly as bin/serve does (gunicorn, clinic/gunicorn.conf.py,
uvicorn workers) with `benchmarks/bare_settings.py`, which adds the bare-DRF baseline of
`benchmarks/bare_urls.py` under /bare/ beside the real API, and drives both with keep-alive
clients in separate processes. Each measurement alternates ours and bare (--rounds each, the
order flipped every round) and runs each side for --seconds; the table gives req/s, p50 / p99
and ours ÷ bare. Goals: every list, detail and create ≥ 0.8× bare; list pages p99 < 50 ms at
one client at any depth (the deep page follows a `next` cursor from the middle of the table).
Searches are reported only, at the first client count (their speed is another issue's).
"""

import argparse
import base64
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
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(BENCH)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "b" * 40)


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _client(args):
    """One keep-alive connection sending `requests` round-robin until `seconds` have passed."""
    port, token, requests, seconds, offset = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    out, started, n = [], time.perf_counter(), offset
    while time.perf_counter() - started < seconds:
        method, path, body = requests[n % len(requests)]
        n += 1
        begin = time.perf_counter()
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        response.read()
        out.append((begin, time.perf_counter(), response.status))
    conn.close()
    return out


def measure(pool, port, token, requests, clients, seconds):
    shares = [(port, token, requests, seconds, i * 7919) for i in range(clients)]
    results = [r for share in pool.map(_client, shares) for r in share]
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    latencies = [(end - begin) * 1000 for begin, end, _ in results]
    return {"n": len(results), "wall": wall, "lat": latencies,
            "statuses": sorted({r[2] for r in results})}  # fmt: skip


def merge(runs):
    lat = [x for run in runs for x in run["lat"]]
    n, wall = sum(r["n"] for r in runs), sum(r["wall"] for r in runs)
    statuses = sorted({s for run in runs for s in run["statuses"]})
    return {"rps": n / wall, "p50": statistics.median(lat), "p99": pct(lat, 0.99), "st": statuses}


# Data ---------------------------------------------------------------------------------------
def fill_mongodb(patients: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from knox.models import AuthToken

    from clinic.permissions import sync_roles
    from patients.models import Patient
    from patients.services import patient_search_reindex

    rng, started = random.Random(5), time.perf_counter()
    for start in range(0, patients, 10_000):
        created = Patient.objects.bulk_create([
            Patient(id=f"PAT_{n:08X}", uhid=str(200_000_000 + n), name=f"Patient {n}",
                    age=rng.randint(1, 90), gender=rng.choice("MFO"), phone=f"+9198{n:08d}")
            for n in range(start, min(start + 10_000, patients))
        ])  # fmt: skip
        patient_search_reindex(patient_ids=[p.pk for p in created])
    sync_roles()
    user = get_user_model().objects.create_user(username="bench_doctor", is_staff=True)
    user.groups.add(Group.objects.get(name="doctor"))
    print(f"generated {patients:,} patients in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)  # fmt: skip
    return {"tokens": {"doctor": AuthToken.objects.create(user)[1]}}


def plan(patients: int) -> dict:
    """Request lists for each measurement: ours and the bare baseline's, on the same rows."""
    from patients.models import Patient

    rng = random.Random(7)
    ids = [f"PAT_{n:08X}" for n in rng.sample(range(patients), min(patients, 2000))]
    middle = Patient.objects.order_by("name", "id").values_list("name", "id")[patients // 2]
    ours_cursor = base64.urlsafe_b64encode(json.dumps(["a", list(middle)]).encode()).decode()
    bare_cursor = base64.b64encode(urlencode({"p": middle[0]}).encode()).decode()
    names = [quote(f"Patient {rng.randrange(patients)}") for _ in range(200)]
    phones = [quote(f"+9198{rng.randrange(patients):08d}") for _ in range(200)]
    # Registered after the duplicate check said "likely the same person" (the bare side ignores
    # confirm_new): the check still runs, as at a desk.
    new = [{"name": f"Bench New {n}", "age": 30, "gender": "F", "phone": f"+9197{n:08d}",
            "confirm_new": True} for n in range(50)]  # fmt: skip
    api, bare = "/api/v1/patients/", "/bare/patients/"

    def gets(base, paths):
        return [("GET", f"{base}{p}", None) for p in paths]

    return {
        "detail": (gets(api, [f"{i}/" for i in ids]), gets(bare, [f"{i}/" for i in ids]), True),
        "list, first page": (gets(api, [""]), gets(bare, [""]), True),
        "list, deep page (cursor at 50%)": (
            gets(api, [f"?page={patients // 100}&cursor={ours_cursor}"]),
            gets(bare, [f"?cursor={quote(bare_cursor)}"]),
            True,
        ),
        "create": ([("POST", api, b) for b in new], [("POST", bare, b) for b in new], True),
        "search, name (report only)": (
            gets(api, [f"?search={n}" for n in names]),
            gets(bare, [f"?search={n}" for n in names]),
            False,
        ),  # fmt: skip
        "search, phone (report only)": (
            gets(api, [f"?search={p}" for p in phones]),
            gets(bare, [f"?search={p}" for p in phones]),
            False,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "mongodb"], default="sqlite")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per side, round, clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", help="SQLite file to build (default: a temporary one)")
    parser.add_argument("--mongodb-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--only", help="measure only names containing this text")
    options = parser.parse_args()
    levels = [int(c) for c in options.concurrency.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    if options.database == "sqlite":
        url = f"sqlite:///{Path(options.db) if options.db else workdir / 'bench.db'}"
    else:
        if not options.mongodb_url.startswith("mongodb"):
            parser.error("--database mongodb needs --mongodb-url (or DATABASE_URL)")
        url = options.mongodb_url.rsplit("/", 1)[0] + f"/bench_api_{os.getpid()}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "SECURE_SSL_REDIRECT": "0", "DEBUG": "0",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(options.workers),
           "ACCESS_LOG": "/dev/null", "LOG_LEVEL": "WARNING"}  # fmt: skip
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    if options.database == "sqlite":
        import bench_queue

        seeded = bench_queue.generate(options.patients, 2_000)
    else:
        seeded = fill_mongodb(options.patients)
    token = seeded["tokens"]["doctor"]
    phases = plan(options.patients)
    server_env = {**env, "DJANGO_SETTINGS_MODULE": "bare_settings",
                  "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)])}  # fmt: skip
    server = bench_queue.start_server(server_env, workdir, port)
    context = multiprocessing.get_context("spawn")
    rows = []
    try:
        with context.Pool(max(levels)) as pool:
            for ours, bare, _goal in phases.values():  # warm both sides' code paths
                measure(pool, port, token, ours, 1, 0.5)
                measure(pool, port, token, bare, 1, 0.5)
            for name, (ours, bare, goal) in phases.items():
                if options.only and options.only not in name:
                    continue
                for clients in levels if goal else levels[:1]:  # searches: one client only
                    runs = {"ours": [], "bare": []}
                    for round_ in range(options.rounds):
                        order = ("ours", "bare") if round_ % 2 == 0 else ("bare", "ours")
                        for side in order:
                            requests = ours if side == "ours" else bare
                            runs[side].append(
                                measure(pool, port, token, requests, clients, options.seconds)
                            )
                    rows.append((name, clients, merge(runs["ours"]), merge(runs["bare"]), goal))
                    print(f"  measured {name} c={clients}", file=sys.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    print(f"\n{options.database}, {options.patients:,} patients, gunicorn {options.workers} "
          f"uvicorn workers (bin/serve's command), keep-alive clients; {options.rounds} "
          f"alternated runs of {options.seconds:g} s per side. p50 / p99 in ms.\n")  # fmt: skip
    print(
        "| request | clients | ours req/s | bare req/s | ours ÷ bare | ours p50 / p99 "
        "| bare p50 / p99 | status ours / bare |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, clients, ours, bare, goal in rows:
        ratio = ours["rps"] / bare["rps"]
        flag = "" if not goal else (" ✓" if ratio >= 0.8 else " ✗")
        print(f"| {name} | {clients} | {ours['rps']:.0f} | {bare['rps']:.0f} | {ratio:.2f}{flag} "
              f"| {ours['p50']:.1f} / {ours['p99']:.1f} | {bare['p50']:.1f} / {bare['p99']:.1f} "
              f"| {ours['st']} / {bare['st']} |")  # fmt: skip


if __name__ == "__main__":
    main()
