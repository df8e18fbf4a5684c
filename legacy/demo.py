"""Demo logins (one per role) and demo clinical data for a fresh installation; safe to re-run."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Max
from django.utils import timezone

from clinic.permissions import DOCTOR, NURSE, RECORDS, sync_roles
from oncology.models import Episode, Treatment, Tumour
from patients.models import HistoryEntry, Note, Patient
from patients.services import patient_search_reindex
from queue_app.models import DailyTokenCounter, QueueEntry

DEMO_USERS = [("admin", None), ("nurse", NURSE), ("doctor", DOCTOR), ("records", RECORDS)]
DEMO_PASSWORD = "clinic-demo"


# (first name, gender); surnames cycle. IDs are fixed so a re-run finds what it made before.
PEOPLE = [
    ("Asha", "F"),
    ("Ravi", "M"),
    ("Meena", "F"),
    ("Suresh", "M"),
    ("Lakshmi", "F"),
    ("Arjun", "M"),
    ("Priya", "F"),
    ("Vikram", "M"),
    ("Kavita", "F"),
    ("Rahul", "M"),
    ("Sunita", "F"),
    ("Anil", "M"),
    ("Deepa", "F"),
    ("Manoj", "M"),
    ("Geeta", "F"),
    ("Sanjay", "M"),
    ("Pooja", "F"),
    ("Rajesh", "M"),
    ("Neha", "F"),
    ("Amit", "M"),
    ("Farah", "F"),
    ("Imran", "M"),
    ("Mary", "F"),
    ("Joseph", "M"),
    ("Harpreet", "F"),
    ("Gurdeep", "M"),
    ("Divya", "F"),
    ("Karthik", "M"),
    ("Anjali", "F"),
    ("Mohan", "M"),
]
SURNAMES = ["Rao", "Kumar", "Iyer", "Sharma", "Nair", "Reddy", "Patel", "Singh", "Das", "Menon"]
# The three ways the legacy data writes a phone number.
PHONE_FORMATS = ["+9198450{:05d}", "98450 {:05d}", "098450-{:05d}"]
SOAP = [
    ("Headache for 3 days", "BP 150/95, pulse 82", "Hypertension, uncontrolled", "Amlodipine 5 mg"),
    ("Cough and fever", "Temp 38.4 C, chest clear", "Viral upper respiratory infection", "Fluids"),
    ("Follow-up, feeling better", "BP 128/84", "Hypertension, controlled", "Continue"),
    (
        "Change in bowel habit, 6 weeks",
        "Abdomen soft, PR blood",
        "Suspected colorectal cancer",
        "Urgent colonoscopy referral",
    ),
]
HISTORY = [
    ("prescription", {"medications": ["Amlodipine 5mg", "Aspirin 75mg"], "doctor": "Dr Khan"}),
    ("diagnosis", {"diagnoses": ["Type 2 diabetes mellitus"], "doctor": "Dr Khan"}),
    ("lab_result", {"notes": "HbA1c 7.9%", "doctor": "Dr Menon"}),
]
QUEUE = [  # (status, priority, timestamps set, minutes ago)
    (
        "completed",
        "normal",
        [
            "started_at",
            "nurse_completed_at",
            "timeline_ready_at",
            "consultation_started_at",
            "completed_at",
        ],
        90,
    ),
    (
        "in_consultation",
        "normal",
        ["started_at", "nurse_completed_at", "timeline_ready_at", "consultation_started_at"],
        60,
    ),
    ("ready_for_doctor", "urgent", ["started_at", "nurse_completed_at", "timeline_ready_at"], 45),
    ("nurse_completed", "normal", ["started_at", "nurse_completed_at"], 30),
    ("waiting", "normal", [], 15),
    ("waiting", "emergency", [], 5),
]


def _at(year: int, month: int, day: int) -> datetime:
    return timezone.make_aware(datetime(year, month, day, 10, 30))


def _patients() -> list[Patient]:
    created = _at(2024, 1, 15)
    return [
        Patient(
            id=f"PAT_DE0000{n:02X}",
            uhid=f"99000{n:04d}",
            name=f"{first} {SURNAMES[n % 10]}",
            age=18 + (n * 7) % 70,
            gender=gender,
            phone=PHONE_FORMATS[n % 3].format(n),
            created_at=created,
            updated_at=created,
        )
        for n, (first, gender) in enumerate(PEOPLE, start=1)
    ]


def _notes(patients: list[Patient]) -> list[Note]:
    notes = []
    for n, patient in enumerate(patients, start=1):
        subjective, objective, assessment, plan = SOAP[n % len(SOAP)]
        content = {
            "subjective": subjective,
            "objective": objective,
            "assessment": assessment,
            "plan": plan,
        }
        notes.append(
            Note(
                id=f"NOTE_DE00{n:04X}",
                patient=patient,
                content=content,
                created_by="nurse",
                created_at=_at(2025, 1 + n % 12, 1 + n % 28),
            )
        )
    return notes


def _history(patients: list[Patient]) -> list[HistoryEntry]:
    entries = []
    for n, patient in enumerate(patients, start=1):
        for k, (kind, content) in enumerate(
            [("visit", {"notes": "Routine visit"}), HISTORY[n % len(HISTORY)]]
        ):
            entries.append(
                HistoryEntry(
                    id=f"HIST_DE{k:02X}{n:04X}",
                    patient=patient,
                    type=kind,
                    content=content,
                    date=_at(2024 + k, 1 + n % 12, 1 + n % 28),
                    source="manual",
                )
            )
    return entries


# Three colorectal pathways: ICD-10 sites, TNM 8 staging, OPCS-4 procedures, ASA grades.
EPISODES = [
    {
        "status": "active",
        "nhs": "9434765919",
        "referral": (2025, 3, 4),
        "tumours": [
            (
                "primary",
                "rectum",
                "C20",
                "8140/3",
                ("T3", "N1", "M0"),
                {
                    "lymph_nodes_examined": 14,
                    "lymph_nodes_positive": 2,
                    "crm_status": "clear",
                    "grade": "G2",
                },
            )
        ],
        "treatments": [
            {
                "treatment_type": "radiotherapy",
                "treatment_intent": "curative",
                "dose_gy": 45.0,
                "fractions": 25,
            },
            {
                "treatment_type": "surgery",
                "treatment_intent": "curative",
                "opcs4_code": "H33.1",
                "surgical_access_type": "open",
                "surgical_urgency_type": "elective",
                "asa_grade": 3,
            },
        ],
    },
    {
        "status": "completed",
        "nhs": "9434765927",
        "referral": (2024, 9, 17),
        "tumours": [
            (
                "primary",
                "sigmoid colon",
                "C18.7",
                "8140/3",
                ("T3", "N0", "M0"),
                {
                    "lymph_nodes_examined": 21,
                    "lymph_nodes_positive": 0,
                    "crm_status": "clear",
                    "grade": "G2",
                },
            )
        ],
        "treatments": [
            {
                "treatment_type": "surgery",
                "treatment_intent": "curative",
                "opcs4_code": "H33.4",
                "surgical_access_type": "laparoscopic",
                "surgical_urgency_type": "elective",
                "asa_grade": 2,
            },
            {
                "treatment_type": "chemotherapy",
                "treatment_intent": "curative",
                "regimen": "CAPOX",
                "cycles": 8,
            },
        ],
    },
    {
        "status": "active",
        "nhs": "9434765935",
        "referral": (2025, 6, 2),
        "tumours": [
            ("primary", "sigmoid colon", "C18.7", "8140/3", ("T4a", "N2a", "M1a"), {}),
            ("metastasis", "liver", "C78.7", "8140/6", ("T4a", "N2a", "M1a"), {}),
        ],
        "treatments": [
            {
                "treatment_type": "chemotherapy",
                "treatment_intent": "palliative",
                "regimen": "FOLFOX",
                "cycles": 12,
            },
        ],
    },
]


def _oncology(patients: list[Patient]) -> tuple[list[Episode], list[Treatment], list[Tumour]]:
    episodes, treatments, tumours = [], [], []
    for n, (spec, patient) in enumerate(zip(EPISODES, patients, strict=False), start=1):
        referral = _at(*spec["referral"])
        episode = Episode(
            id=f"de{n:022x}",
            patient=patient,
            mrn=patient.uhid,
            nhs_number=spec["nhs"],
            cancer_type="bowel",
            referral_date=referral,
            first_seen_date=referral + timedelta(days=10),
            mdt_discussion_date=referral + timedelta(days=21),
            lead_clinician="Mr Jones",
            episode_status=spec["status"],
            created_at=referral,
            last_modified_at=referral,
        )
        episodes.append(episode)
        for k, fields in enumerate(spec["treatments"]):
            treatments.append(
                Treatment(
                    id=f"TRT_DE00{n:02X}{k:02X}",
                    episode=episode,
                    patient=patient,
                    position=k,
                    treatment_date=referral + timedelta(days=42 + 60 * k),
                    provider_organisation="RGT",
                    **fields,
                )
            )
        for k, (kind, site, icd10, morphology, (t, n_stage, m), pathology) in enumerate(
            spec["tumours"]
        ):
            tumours.append(
                Tumour(
                    id=f"TUM_DE00{n:02X}{k:02X}",
                    episode=episode,
                    patient=patient,
                    position=k,
                    tumour_type=kind,
                    site=site,
                    icd10_code=icd10,
                    snomed_morphology_code=morphology,
                    tnm_staging={
                        "t_stage": t,
                        "n_stage": n_stage,
                        "m_stage": m,
                        "tnm_version": "8",
                    },
                    pathology=pathology,
                    diagnosis_date=referral + timedelta(days=14),
                )
            )
    return episodes, treatments, tumours


def _todays_queue(patients: list[Patient]) -> list[QueueEntry]:
    """Today's demo queue, numbered after any tokens already handed out today."""
    now = timezone.now()
    day = timezone.localdate(now)
    ids = [f"Q_{day:%y%m%d}{n:02X}" for n in range(1, len(QUEUE) + 1)]
    existing = set(QueueEntry.objects.filter(pk__in=ids).values_list("pk", flat=True))
    last = QueueEntry.objects.filter(day=day).aggregate(last=Max("token_number"))["last"] or 0
    counter = DailyTokenCounter.objects.filter(day=day).first()
    last = max(last, counter.last_token if counter else 0)
    entries = []
    for entry_id, patient, (status, priority, stamps, ago) in zip(
        ids, patients[5:], QUEUE, strict=False
    ):
        if entry_id in existing:
            continue
        last += 1
        added = now - timedelta(minutes=ago)
        entries.append(
            QueueEntry(
                id=entry_id,
                patient=patient,
                patient_name=patient.name,
                day=day,
                token_number=last,
                status=status,
                priority=priority,
                added_at=added,
                **{stamp: added + timedelta(minutes=2 * (k + 1)) for k, stamp in enumerate(stamps)},
            )
        )
    if entries:
        DailyTokenCounter.objects.update_or_create(day=day, defaults={"last_token": last})
    return entries


def _insert_missing(model, rows) -> int:
    existing = set(
        model.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True)
    )
    missing = [row for row in rows if row.pk not in existing]
    model.objects.bulk_create(missing)
    return len(missing)


def load_demo_data() -> dict[str, int]:
    """Insert whatever demo rows are missing; bulk inserts, so this is fast and not audited."""
    patients = _patients()
    episodes, treatments, tumours = _oncology(patients)
    added_patients = _insert_missing(Patient, patients)
    patient_search_reindex(patient_ids=[p.pk for p in patients])
    return {
        "patients": added_patients,
        "notes": _insert_missing(Note, _notes(patients)),
        "history entries": _insert_missing(HistoryEntry, _history(patients)),
        "queue entries": _insert_missing(QueueEntry, _todays_queue(patients)),
        "episodes": _insert_missing(Episode, episodes),
        "treatments": _insert_missing(Treatment, treatments),
        "tumours": _insert_missing(Tumour, tumours),
    }


def demo_logins_ensure() -> None:
    """The role groups and one login per role (password DEMO_PASSWORD); existing ones are kept."""
    sync_roles()
    users = get_user_model().objects
    for username, role in DEMO_USERS:
        user = users.filter(username=username).first()
        if user is None:
            maker = users.create_superuser if role is None else users.create_user
            user = maker(username=username, password=DEMO_PASSWORD, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
