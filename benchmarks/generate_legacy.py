"""Generate a legacy export for import benchmarks (streams; any size).

    python benchmarks/generate_legacy.py OUT_DIR --patients 1000000

Per patient, on average: 0.2 queue entries, 0.5 notes, 0.5 history entries (the sample's
proportions, rounded down so a 1M run stays under an hour of disk I/O). Shapes as the field
exports them: patients as an object map, queue and history as arrays, notes as a map of arrays.
Deterministic for a given --seed.
"""

import argparse
import json
import os
import random

NAMES = ["Asha", "Ravi", "Priya", "Imran", "Zoë", "Anne-Marie", "Nguyễn", "Fatima", "John"]
SURNAMES = ["Rao", "Sharma", "Iyer", "Menon", "Nair", "Gupta", "Smith", "Doe", "Reddy"]
GENDERS = ["M", "F", "O", "male", "female", "Female", "m", "", None]
STATUSES = ["waiting", "nurse_completed", "ready_for_doctor", "in_consultation", "completed",
            "cancelled"]  # fmt: skip


def patient_id(n: int) -> str:
    return f"PAT_{n:08X}"


def stamp(rng: random.Random, year: int = 2024) -> str:
    day = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def write_patients(path: str, count: int, rng: random.Random) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("{\n")
        for n in range(count):
            record = {
                "uhid": str(100000000 + n), "name": f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}",
                "age": rng.randint(0, 99), "gender": rng.choice(GENDERS),
                "phone": f"+9198{rng.randint(10000000, 99999999)}",
                "created_at": stamp(rng, 2023), "updated_at": stamp(rng),
            }  # fmt: skip
            sep = ",\n" if n else ""
            out.write(f'{sep}"{patient_id(n)}": {json.dumps(record, ensure_ascii=False)}')
        out.write("\n}\n")


def write_queue(path: str, count: int, patients: int, rng: random.Random) -> None:
    tokens: dict[str, int] = {}
    with open(path, "w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(count):
            day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            tokens[day] = tokens.get(day, 0) + 1
            record = {
                "queue_id": f"Q_{n:08X}", "patient_id": patient_id(rng.randrange(patients)),
                "patient_name": "x", "token_number": tokens[day], "priority": "normal",
                "status": rng.choice(STATUSES), "added_at": f"{day}T10:{n % 60:02d}:00",
                "started_at": None, "nurse_completed_at": None, "timeline_ready_at": None,
                "completed_at": None,
            }  # fmt: skip
            out.write((",\n" if n else "") + json.dumps(record))
        out.write("\n]\n")


def write_notes(path: str, count: int, patients: int, rng: random.Random) -> None:
    per_patient: dict[int, int] = {}
    for _ in range(count):
        owner = rng.randrange(patients)
        per_patient[owner] = per_patient.get(owner, 0) + 1
    with open(path, "w", encoding="utf-8") as out:
        out.write("{\n")
        for i, (owner, many) in enumerate(sorted(per_patient.items())):
            notes = [
                {"type": "SOAP", "content": {"subjective": "Headache", "plan": f"Review {k}"},
                 "created_by": "nurse_rekha", "created_at": stamp(rng)}
                for k in range(many)
            ]  # fmt: skip
            out.write((",\n" if i else "") + f'"{patient_id(owner)}": {json.dumps(notes)}')
        out.write("\n}\n")


def write_history(path: str, count: int, patients: int, rng: random.Random) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(count):
            record = {
                "history_id": f"HIST_{n:08X}", "patient_id": patient_id(rng.randrange(patients)),
                "type": "prescription", "date": stamp(rng)[:10], "source": "digitizer",
                "content": {"medications": ["Paracetamol 500mg"], "diagnoses": ["Fever"]},
            }  # fmt: skip
            out.write((",\n" if n else "") + json.dumps(record))
        out.write("\n]\n")


def generate(out_dir: str, patients: int, seed: int = 1) -> None:
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(seed)
    write_patients(os.path.join(out_dir, "patients.json"), patients, rng)
    write_queue(os.path.join(out_dir, "queue.json"), patients // 5, patients, rng)
    write_notes(os.path.join(out_dir, "notes.json"), patients // 2, patients, rng)
    write_history(os.path.join(out_dir, "history.json"), patients // 2, patients, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out_dir, args.patients, args.seed)


if __name__ == "__main__":
    main()
