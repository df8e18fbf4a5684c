"""Benchmark `manage.py split_embedded` (split and --reverse) and a naive per-episode ORM baseline.

    python benchmarks/bench_split.py [--episodes 1000000] [--baseline 2000] [--batch-size 1000]

Builds a throwaway SQLite database (or uses DATABASE_URL), generates episodes with 0-3
treatments and 0-2 tumours each straight through the bulk writer, then times the real command
in a child process and prints episodes/s and the child's peak RSS. Subcommands `generate` and
`checksum` are also used by the kill -9 test.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "b" * 40)

TYPES = ["surgery", "chemotherapy", "radiotherapy", "immunotherapy", "watch_and_wait"]


def _setup():
    import django

    django.setup()


def _treatment(rng: random.Random, n: int) -> dict:
    item = {
        "treatment_type": rng.choice(TYPES),
        "treatment_date": f"2024-0{rng.randint(1, 9)}-"
        f"{rng.randint(10, 28)}T0{rng.randint(0, 9)}:12:44Z",
        "treatment_intent": "curative",
        "provider_organisation": "RGT",
    }
    if rng.random() < 0.5:
        item["treatment_id"] = f"TRT_{n:08X}"
    if item["treatment_type"] == "surgery":
        item |= {"opcs4_code": "H07.1", "asa_grade": rng.randint(1, 4)}
    if rng.random() < 0.1:
        item["trial_arm"] = "B"  # a field outside the contract: kept in extra
    return item


def _tumour(rng: random.Random) -> dict:
    return {
        "tumour_type": rng.choice(["primary", "metastasis"]),
        "site": "sigmoid colon",
        "icd10_code": "C18.7",
        "tnm_staging": {"t_stage": "T3", "n_stage": "N1"},
        "diagnosis_date": f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
    }


def generate(episodes: int, seed: int = 7, chunk: int = 5000) -> None:
    """Deterministic episodes (and one patient per ten) written through the bulk writer."""
    _setup()
    from clinic.db import is_mongodb
    from legacy import bulk
    from oncology.models import Episode
    from patients.models import Patient

    if is_mongodb():  # keep each transaction well inside the server's time limit
        chunk = min(chunk, 500)
    rng = random.Random(seed)
    for start in range(0, episodes, chunk):
        stop = min(start + chunk, episodes)
        patients = [
            {"id": f"PAT_{i:08X}", "uhid": str(100000000 + i), "name": f"Patient {i}"}
            for i in range(start // 10, (stop + 9) // 10)
        ]
        rows = []
        for i in range(start, stop):
            rows.append(
                {
                    "id": f"{i:024x}",
                    "patient_id": f"PAT_{i // 10:08X}",
                    "mrn": str(100000000 + i // 10),
                    "cancer_type": "bowel",
                    "embedded_treatments": [
                        _treatment(rng, i * 4 + k) for k in range(rng.randint(0, 3))
                    ],
                    "embedded_tumours": [_tumour(rng) for _ in range(rng.randint(0, 2))],
                }
            )
        bulk.upsert(Patient, patients)
        bulk.upsert(Episode, rows)


def checksum() -> str:
    """One digest over every episode's arrays and every treatment/tumour record."""
    _setup()
    from oncology.models import Episode, Treatment, Tumour

    digest = hashlib.sha256()
    arrays = Episode.objects.order_by("pk").values_list(
        "pk", "embedded_treatments", "embedded_tumours"
    )
    for row in arrays.iterator(chunk_size=5000):
        digest.update(json.dumps(row).encode())
    for model in (Treatment, Tumour):
        for row in model.objects.order_by("pk").values().iterator(chunk_size=5000):
            digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def naive_split(episodes: int) -> float:
    """The baseline: one ORM save per record and per episode. Returns episodes/s."""
    _setup()
    from clinic.db import atomic
    from legacy.embedded import SPECS, item_to_row
    from oncology.models import Episode

    clock = time.monotonic()
    for episode in Episode.objects.order_by("pk")[:episodes]:
        with atomic():
            for spec in SPECS:
                for position, item in enumerate(getattr(episode, spec.array)):
                    row, _ = item_to_row(
                        spec,
                        item,
                        episode_id=episode.pk,
                        patient_id=episode.patient_id,
                        position=position,
                    )
                    spec.model(**row).save(force_insert=True)
                setattr(episode, spec.array, [])
            episode.save(update_fields=[spec.array for spec in SPECS])
    return episodes / (time.monotonic() - clock)


def _child(args: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one child process."""
    clock = time.monotonic()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{args} failed with status {status}")
    return time.monotonic() - clock, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "action", nargs="?", default="bench", choices=["bench", "generate", "checksum", "naive"]
    )
    parser.add_argument("--episodes", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=1000)
    opts = parser.parse_args()
    if opts.action == "generate":
        return generate(opts.episodes)
    if opts.action == "checksum":
        return print(checksum())
    if opts.action == "naive":
        return print(f"{naive_split(opts.episodes):.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_split_"))
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    py, manage = sys.executable, str(ROOT / "manage.py")
    print(f"database: {env['DATABASE_URL']}")
    url = env["DATABASE_URL"]
    base_url = url + "_baseline" if url.startswith("mongodb") else url + ".baseline"
    base_env = env | {"DATABASE_URL": base_url}
    for child_env, n in [(env, opts.episodes), (base_env, opts.baseline)]:
        _child([py, manage, "migrate", "-v", "0", "--skip-checks"], child_env)
        secs, rss, _ = _child([py, __file__, "generate", "--episodes", str(n)], child_env)
        print(f"generate {n} episodes: {secs:.1f} s, peak RSS {rss:.0f} MB")
    _, _, naive = _child([py, __file__, "naive", "--episodes", str(opts.baseline)], base_env)
    naive_rate = float(naive)
    print(
        f"baseline naive ORM per-episode split: {naive_rate:.0f} episodes/s "
        f"(scaled to {opts.episodes}: {opts.episodes / naive_rate:.0f} s)"
    )
    for mode in ["split", "reverse", "split"]:
        report = tmp / f"{mode}.json"
        cmd = [
            py,
            manage,
            "split_embedded",
            "--no-input",
            "--skip-checks",
            "-v",
            "0",
            "--report",
            str(report),
            "--batch-size",
            str(opts.batch_size),
        ] + (["--reverse"] if mode == "reverse" else [])
        secs, rss, _ = _child(cmd, env)
        summary = json.loads(report.read_text())
        rate = opts.episodes / summary["duration_s"]
        print(
            f"{mode}: {opts.episodes} episodes, {sum(summary['items_moved'].values())} items "
            f"in {summary['duration_s']:.1f} s ({rate:.0f} episodes/s; process {secs:.1f} s "
            f"incl. start-up and validation), peak RSS {rss:.0f} MB, "
            f"{rate / naive_rate:.0f}x the naive baseline"
        )


if __name__ == "__main__":
    main()
