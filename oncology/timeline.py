"""A patient's timeline: one chronological list across episodes (referral, first seen, MDT),
tumour diagnoses, treatments, history entries, notes and queue visits.

One query per source, whatever the number of records; a source is left out, not refused,
when the user's role may not view it (a nurse sees history, notes and visits, no oncology).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

from oncology.models import Episode, Treatment, Tumour
from patients.clinical import item_text
from patients.models import HistoryEntry, Note
from queue_app.models import QueueEntry, Vitals
from queue_app.vitals import vitals_text

# Same instant: the pathway reads referral, first seen, diagnosis, MDT, treatment, then the rest.
KIND_ORDER = [
    "referral",
    "first_seen",
    "diagnosis",
    "mdt",
    "treatment",
    "visit",
    "vitals",
    "history",
    "note",
    "document",
    "timeline",
]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None
    kind: str
    source: str
    object_id: str
    title: str
    detail: str = ""
    # Labelled facts shown under the detail: a note's chief complaint, medications, language
    # and transcript; a timeline summary's document and event counts.
    facts: tuple[tuple[str, str], ...] = ()
    image: str = ""  # URL of a thumbnail, for entries that have one


def _episodes(patient_id: str):
    rows = Episode.objects.filter(patient_id=patient_id).values(
        "id",
        "cancer_type",
        "condition_type",
        "referral_date",
        "first_seen_date",
        "mdt_discussion_date",
        "lead_clinician",
    )
    for row in rows:
        what = f"{(row['cancer_type'] or row['condition_type']).capitalize()} cancer pathway"
        lead = f"Lead clinician {row['lead_clinician']}" if row["lead_clinician"] else ""
        for kind, stamp, title in (
            ("referral", "referral_date", f"Referral: {what}"),
            ("first_seen", "first_seen_date", f"First seen: {what}"),
            ("mdt", "mdt_discussion_date", f"MDT discussion: {what}"),
        ):
            if row[stamp] or kind == "referral":
                yield TimelineEntry(row[stamp], kind, "oncology.episode", row["id"], title, lead)


def _tumours(patient_id: str):
    rows = Tumour.objects.filter(patient_id=patient_id).values(
        "id", "tumour_type", "site", "icd10_code", "diagnosis_date", "tnm_staging"
    )
    for row in rows:
        site = ", ".join(filter(None, [row["site"], row["icd10_code"]])) or "site not recorded"
        staging = row["tnm_staging"] or {}
        tnm = " ".join(str(staging[k]) for k in ("t_stage", "n_stage", "m_stage") if staging.get(k))
        title = f"{Tumour.Type(row['tumour_type']).label} tumour diagnosed: {site}"
        yield TimelineEntry(
            row["diagnosis_date"], "diagnosis", "oncology.tumour", row["id"], title, tnm
        )


def _treatments(patient_id: str):
    rows = Treatment.objects.filter(patient_id=patient_id).values(
        "id", "treatment_type", "treatment_date", "treatment_intent", "opcs4_code", "regimen"
    )
    for row in rows:
        title = Treatment.Type(row["treatment_type"]).label
        detail = ", ".join(
            filter(None, [row["treatment_intent"], row["opcs4_code"], row["regimen"]])
        )
        yield TimelineEntry(
            row["treatment_date"], "treatment", "oncology.treatment", row["id"], title, detail
        )


TIMELINE_COUNTS = (
    ("document_count", "Documents"),
    ("event_count", "Events"),
    ("current_medications_count", "Current medications"),
)


def _listed(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")


def _history(patient_id: str):
    rows = HistoryEntry.objects.filter(patient_id=patient_id).values(
        "id", "type", "date", "content", "batch_id"
    )
    for row in rows:
        content = row["content"] if isinstance(row["content"], dict) else {}
        facts = ()
        if row["type"] == HistoryEntry.Type.TIMELINE_SUMMARY:
            detail = str(content.get("summary") or "")[:1000]
            facts = tuple(
                (label, str(content[key])) for key, label in TIMELINE_COUNTS if key in content
            ) + ((("Batch", row["batch_id"]),) if row["batch_id"] else ())
        else:
            parts = [
                item_text(key, item)
                for key in ("diagnoses", "medications", "lab_results")
                for item in (content.get(key) if isinstance(content.get(key), list) else [])
            ]
            detail = "; ".join(parts) or str(content.get("notes") or "")
        yield TimelineEntry(
            row["date"],
            "history",
            "patients.historyentry",
            row["id"],
            HistoryEntry.Type(row["type"]).label,
            detail,
            facts,
        )


def _notes(patient_id: str):
    rows = Note.objects.filter(patient_id=patient_id).values(
        "id", "type", "created_at", "created_by", "content", "language", "transcript"
    )
    for row in rows:
        content, facts = row["content"], []
        if isinstance(content, dict):
            facts = [
                (label, _listed(content.get(key)))
                for key, label in (
                    ("chief_complaint", "Chief complaint"),
                    ("medications", "Medications"),
                )
                if content.get(key)
            ]
            content = (
                content.get("assessment") or content.get("subjective") or content.get("text") or ""
            )
        if row["language"]:
            facts.append(("Language", row["language"]))
        if row["transcript"]:
            facts.append(("Transcript", row["transcript"].strip()[:300]))
        by = f" by {row['created_by']}" if row["created_by"] else ""
        yield TimelineEntry(
            row["created_at"],
            "note",
            "patients.note",
            row["id"],
            f"{Note.Type(row['type']).label}{by}",
            str(content)[:200],
            tuple(facts),
        )


def _visits(patient_id: str):
    rows = QueueEntry.objects.filter(patient_id=patient_id).values(
        "id", "added_at", "token_number", "status", "priority"
    )
    for row in rows:
        status = QueueEntry.Status(row["status"]).label.lower()
        yield TimelineEntry(
            row["added_at"],
            "visit",
            "queue_app.queueentry",
            row["id"],
            f"Clinic visit, token {row['token_number']}",
            f"{row['priority']} priority, {status}",
        )


def _vitals(patient_id: str):
    rows = Vitals.objects.filter(patient_id=patient_id).values(
        "id", "recorded_at", "recorded_by", *VITAL_SIGNS
    )
    for row in rows:
        by = f" by {row['recorded_by']}" if row["recorded_by"] else ""
        yield TimelineEntry(
            row["recorded_at"], "vitals", "queue_app.vitals", row["id"], f"Vitals{by}",
            vitals_text(row),
        )  # fmt: skip


VITAL_SIGNS = ("systolic_bp", "diastolic_bp", "pulse", "temperature_c", "spo2",
               "respiratory_rate", "weight_kg", "height_cm", "blood_glucose")  # fmt: skip

SOURCES = [
    ("oncology.view_episode", _episodes),
    ("oncology.view_tumour", _tumours),
    ("oncology.view_treatment", _treatments),
    ("patients.view_historyentry", _history),
    ("patients.view_note", _notes),
    ("queue_app.view_queueentry", _visits),
    ("queue_app.view_vitals", _vitals),
]


def _hooked(collect):
    """A source of a higher app (settings.PATIENT_TIMELINE_SOURCES) yields entries as dicts."""
    return lambda patient_id: (TimelineEntry(**item) for item in collect(patient_id))


def _sources():
    hooked = getattr(settings, "PATIENT_TIMELINE_SOURCES", [])
    return [*SOURCES, *((perm, _hooked(import_string(path))) for perm, path in hooked)]


def patient_timeline(*, patient_id: str, user) -> list[TimelineEntry]:
    """Everything the user may see about a patient, oldest first; undated entries last."""
    entries = [
        e for perm, collect in _sources() if user.has_perm(perm) for e in collect(patient_id)
    ]
    dated = sorted(
        (e for e in entries if e.at), key=lambda e: (e.at, KIND_ORDER.index(e.kind), e.object_id)
    )
    undated = sorted(
        (e for e in entries if not e.at), key=lambda e: (KIND_ORDER.index(e.kind), e.object_id)
    )
    return dated + undated
