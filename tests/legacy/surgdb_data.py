"""Documents shaped as the oncology system (pdsykes2512/surg-db) writes them, exported as
`mongoexport` would: real BSON types (ObjectId, datetime, Int64) through pymongo's json_util,
in relaxed or canonical Extended JSON. Shapes follow its backend/app/models (patient,
episode, treatment, tumour) and its sample generators (execution/dev-tools/
create_sample_cancer_episodes.py: plain ISO strings for the episode dates, BSON dates for
created_at, `EPI-…` episode IDs, `cancer_data`, `mdt_team`)."""

import datetime as dt
import json
from pathlib import Path

from bson import Int64, ObjectId, json_util

UTC = dt.UTC
MODES = {
    "relaxed": json_util.RELAXED_JSON_OPTIONS,
    "canonical": json_util.CANONICAL_JSON_OPTIONS,
}
KEY, SALT = b"hG0W7qVZP1m8sYw5bR9kq3Xn2cT6uJ4eL0aD1fH7gK8=", b"0123456789abcdef"
CREATED = dt.datetime(2025, 3, 4, 10, 30, 15, 123000, tzinfo=UTC)


def patient(n: int, *, encrypt=None, nhs="943 476 5919", mrn=None) -> dict:
    enc = encrypt or (lambda v: v)
    return {
        "_id": ObjectId(f"{n:024x}"),
        "patient_id": f"{0xA1B2C0 + n:06x}",
        "record_number": enc(mrn or (f"IW{n:06d}" if n % 2 else f"{10000000 + n}")),
        "nhs_number": enc(nhs) if nhs else nhs,
        "demographics": {
            "first_name": enc("Ann"),
            "last_name": enc(f"Smith{n}"),
            "date_of_birth": enc("1950-04-0" + str(1 + n % 9)),
            "age": 74,
            "gender": "female" if n % 2 else "male",
            "ethnicity": "White British" if n % 2 else "Indian",
            "postcode": enc("PO30 5TG"),
            "bmi": 27.4,
            "weight_kg": 70.5,
            "height_cm": 160.0,
        },
        "medical_history": {
            "conditions": ["hypertension"],
            "previous_surgeries": [{"procedure": "appendicectomy", "year": 1971}],
            "medications": ["amlodipine"],
            "allergies": [],
            "smoking_status": "former",
            "alcohol_use": "social",
        },
        "created_at": CREATED,
        "created_by": "admin",
        "updated_at": CREATED,
    }


def episode(n: int, mrn: str, nhs: str = "9434765919") -> dict:
    oid = ObjectId(f"{0xE0000 + n:024x}")
    return {
        "_id": oid,
        "episode_id": f"EPI-{mrn}-{n:02d}",
        "patient_id": mrn,
        "condition_type": "cancer",
        "cancer_type": "bowel",
        "referral_date": "2025-01-06T09:00:00",
        "first_seen_date": "2025-01-10T00:00:00",
        "mdt_discussion_date": dt.datetime(2025, 1, 20, tzinfo=UTC),
        "lead_clinician": "Mr Sykes",
        "mdt_team": ["Dr Chen", "Dr Roberts"],
        "episode_status": "active",
        "created_at": CREATED,
        "created_by": "sample_data_script",
        "last_modified_at": CREATED,
        "last_modified_by": "sample_data_script",
        "cancer_data": {"cancer_site": "rectum", "lymph_nodes_examined": 15, "seen": CREATED},
        "treatments": [
            {
                "_id": ObjectId(f"{0x70000 + n:024x}"),
                "treatment_id": f"TRT-{nhs}-01",
                "treatment_type": "surgery_primary",
                "treatment_date": "2025-02-01",
                "treatment_intent": "curative",
                "provider_organisation": "R0D",
                "asa_score": Int64(2),
                "classification": {"urgency": "elective", "approach": "laparoscopic"},
                "procedure": {"primary_procedure": "Anterior resection", "opcs_codes": ["H33.3"]},
                "perioperative_timeline": {"surgery_date": dt.datetime(2025, 2, 1, tzinfo=UTC)},
            }
        ],
        "tumours": [
            {
                "tumour_id": f"TUM-{nhs}-01",
                "tumour_type": "primary",
                "site": "rectum",
                "diagnosis_date": dt.datetime(2025, 1, 15, tzinfo=UTC),
                "snomed_morphology": "8140/3",
                "tnm_version": "8",
                "clinical_t": "T3",
                "clinical_n": "N1",
                "clinical_m": "M0",
                "grade": "moderate",
                "lymph_nodes_examined": 14,
                "lymph_nodes_positive": Int64(1),
                "crm_status": "clear",
            }
        ],
    }


def dumps(document: dict, mode: str) -> str:
    return json_util.dumps(document, json_options=MODES[mode])


def write(path: Path, documents: list[dict], mode: str, *, array: bool = False) -> Path:
    if array:
        path.write_text("[" + ",\n".join(dumps(d, mode) for d in documents) + "]\n")
    else:
        path.write_text("".join(dumps(d, mode) + "\n" for d in documents))
    return path


def load_lines(path: Path) -> list[dict]:
    return [json_util.loads(line) for line in path.read_text().splitlines() if line.strip()]


def canonical(document) -> dict:
    """A document with every BSON type spelt out, to compare types as well as values."""
    return json.loads(dumps(document, "canonical"))
