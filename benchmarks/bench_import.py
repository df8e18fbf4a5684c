"""Benchmark `manage.py migrate_json` on SQLite against two baselines measured in the same run.

    python benchmarks/bench_import.py --patients 1000000 [--work DIR] [--loaddata-max 50000]

Prints: first-import patients/s end-to-end (the whole `manage.py` process, start-up included)
and the import phase alone; the other files' records/s; peak RSS; the no-change re-run time
and its speed-up; a plain `sqlite3` executemany of the same patient rows into a table with the
same final schema, its secondary indexes built at the end (the baseline of the floors); and
`manage.py loaddata` of the same patients (on the first --loaddata-max patients when the set is
larger, as it holds the whole fixture in memory; the rate is per row, so it scales).
"""

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ijson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "b" * 40)

from benchmarks.generate_legacy import generate  # noqa: E402

CPU = {"last": 0.0}


def cpu_seconds() -> float:
    """CPU seconds the last run used (all its processes): fair when other jobs share the CPUs."""

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    used, CPU["last"] = total - CPU["last"], total
    return used


def run(args: list[str], db: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB of this one process, stdout) of one manage.py run."""
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    cpu_seconds()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
            stdout=out, stderr=err, text=True,
        )  # fmt: skip
        # wait4: this child's own peak (RUSAGE_CHILDREN would be the largest of all so far).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss // 1024, stdout


def fresh_db(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    run(["migrate", "-v", "0"], path)
    return path


def phase_seconds(report: Path, kind: str) -> float:
    files = json.loads(report.read_text())["files"]
    return next(f["seconds"] for f in files if f["kind"] == kind)


def sqlite_baseline(data: Path, schema_from: Path, work: Path) -> tuple[int, float]:
    """Stream the same patients (ijson, no validation) into the same final table with
    executemany, its secondary indexes built once at the end (timed with the inserts)."""
    target = work / "baseline.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    source = sqlite3.connect(schema_from)
    ddl = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'patients_patient' AND sql IS NOT NULL"
    )]  # fmt: skip
    columns = source.execute("PRAGMA table_info(patients_patient)").fetchall()
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        if not sql.startswith("CREATE INDEX"):
            db.execute(sql)
    given = ["_id", "uhid", "name", "age", "gender", "phone", "created_at", "updated_at", "extra"]
    # Columns the legacy file does not fill get a plain value, as the import's defaults do.
    rest = [(name, 0 if kind in {"bool", "integer"} else "") for _, name, kind, notnull, _, _
            in columns if notnull and name not in given]  # fmt: skip
    names = given + [name for name, _ in rest]
    tail = tuple(value for _, value in rest)
    insert = (
        f"INSERT INTO patients_patient ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    )
    count, batch, started = 0, [], time.perf_counter()
    with open(data / "patients.json", "rb") as handle:
        for key, p in ijson.kvitems(handle, "", use_float=True):
            batch.append((
                key, p.get("uhid"), p["name"], p.get("age"), p.get("gender") or "",
                p.get("phone", ""), p.get("created_at"), p.get("updated_at"), "{}", *tail,
            ))  # fmt: skip
            if len(batch) == 5000:
                db.execute("BEGIN")
                db.executemany(insert, batch)
                db.execute("COMMIT")
                count, batch = count + len(batch), []
    if batch:
        db.execute("BEGIN")
        db.executemany(insert, batch)
        db.execute("COMMIT")
        count += len(batch)
    for sql in ddl:
        if sql.startswith("CREATE INDEX"):
            db.execute(sql)
    return count, time.perf_counter() - started


def loaddata_baseline(data: Path, work: Path, limit: int) -> tuple[int, float, int]:
    fixture = work / "patients_fixture.json"
    with open(data / "patients.json", "rb") as handle, open(fixture, "w") as out:
        out.write("[")
        for n, (key, p) in enumerate(ijson.kvitems(handle, "", use_float=True)):
            if n == limit:
                break
            fields = {"uhid": p.get("uhid"), "name": p["name"], "age": p.get("age"),
                      "gender": (p.get("gender") or "")[:1].upper(), "phone": p.get("phone", ""),
                      "created_at": p.get("created_at"), "updated_at": p.get("updated_at"),
                      "extra": {}}  # fmt: skip
            out.write(
                ("," if n else "")
                + json.dumps({"model": "patients.patient", "pk": key, "fields": fields})
            )
        out.write("]")
    db = fresh_db(work / "loaddata.sqlite3")
    seconds, peak, _ = run(["loaddata", str(fixture), "-v", "0"], db)
    return min(limit, n + 1), seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--work", default="/tmp/clinic-bench-import")
    parser.add_argument("--loaddata-max", type=int, default=50_000)
    args = parser.parse_args()
    work = Path(args.work)
    data = work / f"legacy-{args.patients}"
    work.mkdir(parents=True, exist_ok=True)
    if not (data / "history.json").exists():
        print(f"generating {args.patients:,} patients in {data} …", flush=True)
        generate(str(data), args.patients)
    sizes = {p.name: p.stat().st_size >> 20 for p in sorted(data.glob("*.json"))}
    print(f"data: {sizes} (MB); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    db = fresh_db(work / "import.sqlite3")
    report = work / "report.json"
    common = ["--report", str(report), "--rejects", str(work / "rejects.jsonl"), "-v", "0"]
    t_patients, rss1, _ = run(["migrate_json", str(data / "patients.json"), *common], db)
    cpu_patients = cpu_seconds()
    phase = phase_seconds(report, "patients")
    print(f"first import, patients.json: {args.patients / t_patients:,.0f} patients/s end-to-end "
          f"({t_patients:.1f} s; import phase alone {args.patients / phase:,.0f}/s; "
          f"{cpu_patients:.1f} CPU s)")  # fmt: skip
    t_rest, rss2, _ = run(["migrate_json", str(data), "--only", "queue,notes,history", *common], db)
    cpu_rest = cpu_seconds()
    rest = json.loads(report.read_text())["records"]
    print(f"first import, queue+notes+history: {rest:,} records in {t_rest:.1f} s "
          f"({rest / t_rest:,.0f}/s)")  # fmt: skip
    t_again, rss3, _ = run(["migrate_json", str(data), *common], db)
    cpu_again, cpu_first = cpu_seconds(), cpu_patients + cpu_rest
    totals = json.loads(report.read_text())["totals"]
    first = t_patients + t_rest
    print(f"no-change re-run: {t_again:.1f} s vs first import {first:.1f} s → "
          f"{first / t_again:.2f}× faster (CPU {cpu_again:.1f} s vs {cpu_first:.1f} s → "
          f"{cpu_first / cpu_again:.2f}×); outcome {totals}")  # fmt: skip
    print(f"peak RSS (largest single process): {max(rss1, rss2, rss3)} MB (patients {rss1}, "
          f"queue+notes+history {rss2}, re-run {rss3})")  # fmt: skip
    print(f"load average now {os.getloadavg()[0]:.1f}")

    count, seconds = sqlite_baseline(data, db, work)
    rate = args.patients / t_patients
    print(f"baseline sqlite3 executemany (same rows, same final table, indexes built at the "
          f"end, ijson-streamed): {count / seconds:,.0f} rows/s ({seconds:.1f} s); first import "
          f"is {rate / (count / seconds):.2f}× this")  # fmt: skip
    rows, seconds, peak = loaddata_baseline(data, work, args.loaddata_max)
    print(f"baseline manage.py loaddata on {rows:,} patients: {rows / seconds:,.0f} rows/s "
          f"({seconds:.1f} s, start-up included); peak RSS so far {peak} MB")  # fmt: skip


if __name__ == "__main__":
    main()
