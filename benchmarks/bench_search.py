"""Benchmark patient search: each query kind's p50/p99 at 1 and 16 clients.

    python benchmarks/bench_search.py [--patients 1000000] [--queries 300] [--db PATH]

Builds a throwaway SQLite file database (migrated by `manage.py migrate`) and fills it with
--patients patients with Indian names (each of 50 first names shared by ~2% of patients, each
of 30 surnames by ~3%),
UHIDs, phones and, for one in ten, an NHS number, plus their search terms, straight through
Django's SQLite connection (`executemany`). Then --queries searches per kind run through
`patients.selectors.patient_search` exactly as the admin and the API list them (the first page
of 50 by name, and the changelist's count capped at 10,001), from 1 and then 16 client
processes. A few queries of the old search (name `icontains`, phone regex) give the baseline.
Target: p99 < 100 ms per kind at one client at 1M patients.
"""

import argparse
import gc
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "b" * 40)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
FIRST = ("Asha Priya Ravi Sunita Anil Kavita Rajesh Meena Suresh Lakshmi Vijay Geeta Arjun "
         "Pooja Sanjay Rekha Manoj Divya Ramesh Anita Mohan Neha Kiran Sita Gopal Radha Amit "
         "Shanti Deepak Usha Harish Lata Naveen Jyoti Prakash Asmita Ganesh Savita Mahesh Nisha "
         "Rahul Parvati Venkat Padma Ashok Kamala Dinesh Revathi Srinivas Bhavna"
         ).split()  # fmt: skip
SURNAMES = ("Kumar Sharma Rao Iyer Nair Reddy Patel Singh Das Menon Gupta Joshi Pillai Verma "
            "Mehta Shah Chatterjee Banerjee Mukherjee Bose Naidu Hegde Kulkarni Deshpande Jain "
            "Agarwal Mishra Pandey Yadav Chauhan").split()  # fmt: skip
KINDS = ["first name", "surname", "full name", "uhid", "uhid part", "nhs part", "phone",
         "phone e164", "patient id"]  # fmt: skip


def person(n: int) -> dict:
    """Patient n, reproducibly: the same n always gives the same fields."""
    rng = random.Random(n)
    name = f"{rng.choice(FIRST)} {rng.choice(SURNAMES)}"
    nhs = f"9{n:09d}" if n % 10 == 0 else None
    return {"id": f"PAT_{n:08X}", "uhid": f"IW{n:07d}", "name": name, "phone": f"+9198{n:08d}",
            "nhs_number": nhs}  # fmt: skip


def generate(patients: int) -> None:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from benchmarks.bench_queue import _insert
    from patients.models import Patient, PatientSearchTerm
    from patients.search_terms import term_rows

    stamp = timezone.now().strftime(SQLITE_TIME)
    started, terms_written = time.perf_counter(), 0
    for start in range(0, patients, 50_000):
        people = [person(n) for n in range(start, min(start + 50_000, patients))]
        rows = [{**p, "gender": "F", "age": 40, "date_of_birth": "1986-01-01",
                 "date_of_birth_estimated": True, "created_at": stamp, "updated_at": stamp,
                 "extra": "{}"} for p in people]  # fmt: skip
        terms = term_rows((p["id"], p["name"], p["uhid"], p["nhs_number"], p["phone"])
                          for p in people)  # fmt: skip
        with transaction.atomic():
            _insert(connection, Patient, rows)
            _insert(connection, PatientSearchTerm, terms)
        terms_written += len(terms)
        print(f"\r  {start + len(people):,} patients", end="", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"\ngenerated {patients:,} patients and {terms_written:,} search terms in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip


def queries(kind: str, patients: int, count: int, seed: int) -> list[str]:
    rng, out = random.Random(seed), []
    for _ in range(count):
        p = person(rng.randrange(patients))
        surname = p["name"].split()[-1]
        out.append({
            "first name": rng.choice(FIRST),
            "surname": surname,
            "full name": f"{rng.choice(FIRST)} {surname}",
            "uhid": p["uhid"],
            "uhid part": p["uhid"][-5:],
            "nhs part": f"9{rng.randrange(patients // 10) * 10:09d}"[3:],
            "phone": f"{p['phone'][3:8]} {p['phone'][8:]}",
            "phone e164": p["phone"],
            "patient id": p["id"].lower(),
        }[kind])  # fmt: skip
    return out


def old_search(patients, term: str):
    """The search on main before the term index (for the baseline)."""
    import re

    from django.db.models import Q

    match = Q(name__icontains=term) | Q(pk=term)
    digits = re.sub(r"\D", "", term)
    if digits and not re.search(r"[^\d\s+\-()]", term):
        match |= Q(uhid=digits)
        if len(digits) >= 4:
            match |= Q(phone__regex=r"\D*".join(digits))
    return patients.filter(match)


def run_one(term: str, old: bool = False) -> float:
    from patients.models import Patient
    from patients.selectors import patient_search

    search = old_search if old else patient_search
    started = time.perf_counter()
    found = search(Patient.objects.all(), term)
    list(found.order_by("name", "id")[:50])
    found.order_by()[:10_001].count()
    return time.perf_counter() - started


def client(args) -> list[tuple[str, float]]:
    import django

    django.setup()
    terms, old = args
    run_one("warm up", old)  # imports and the connection, before anything is timed
    gc.freeze()  # as a server worker does once loaded (clinic/gunicorn.conf.py)
    return [(kind, run_one(term, old)) for kind, term in terms]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(patients: int, per_kind: int, clients: int, old: bool = False) -> dict:
    work = [(kind, term) for kind in KINDS for term in queries(kind, patients, per_kind, 7)]
    random.Random(3).shuffle(work)
    chunks = [work[i::clients] for i in range(clients)]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(client, [(chunk, old) for chunk in chunks])
    by_kind: dict[str, list[float]] = {}
    for kind, seconds in (r for chunk in results for r in chunk):
        by_kind.setdefault(kind, []).append(seconds * 1000)
    return by_kind


def report(title: str, by_kind: dict) -> None:
    print(f"\n{title}")
    print(f"  {'query kind':<12} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in KINDS:
        values = by_kind.get(kind, [])
        if values:
            print(f"  {kind:<12} {len(values):>5} {statistics.median(values):>8.1f} "
                  f"{percentile(values, 0.99):>8.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300, help="per query kind")
    parser.add_argument("--baseline-queries", type=int, default=5, help="per kind, old search")
    parser.add_argument("--db", help="reuse this SQLite file (generated when missing)")
    args = parser.parse_args()
    path = Path(args.db or Path(tempfile.mkdtemp(prefix="bench_search_")) / "bench.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    if not path.exists():
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        generate(args.patients)
    print(f"patient search at {args.patients:,} patients (SQLite, {path})")
    if args.baseline_queries:
        report("baseline: the old search, 1 client",
               measure(args.patients, args.baseline_queries, 1, old=True))  # fmt: skip
    for clients in (1, 16):
        report(f"term index, {clients} client(s)", measure(args.patients, args.queries, clients))


if __name__ == "__main__":
    main()
