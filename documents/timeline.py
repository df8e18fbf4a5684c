"""A patient's medical timeline, built by clinic from history entries, notes and documents.

The services that write documents and reviews rebuild it; reading it (`medical_timeline_get`)
rebuilds it too when its sources changed since (notes and history are also edited in the
admin, where no documents service runs). Writes only when the content changed.
"""

import hashlib
import json
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from clinic.ids import derived_id
from documents.models import Document, MedicalTimeline
from patients.models import HistoryEntry, Note

NOTE_TEXT = ("assessment", "subjective", "chief_complaint")


def timeline_id(patient_id: str) -> str:
    """The one clinic-built timeline of a patient has a fixed ID: at most one per patient."""
    return derived_id("TL", "clinic", patient_id)


def _day(at: datetime | None) -> str | None:
    return timezone.localtime(at).date().isoformat() if at else None


def _medications(content: dict) -> list[dict]:
    if isinstance(content.get("prescribed"), list):
        return [m for m in content["prescribed"] if isinstance(m, dict)]
    return [{"name": str(m)} for m in content.get("medications", []) if m]


def _history_events(patient_id: str):
    rows = HistoryEntry.objects.filter(patient_id=patient_id).exclude(
        type=HistoryEntry.Type.TIMELINE_SUMMARY
    )
    for entry in rows.values("id", "type", "date", "content", "document_id"):
        content = entry["content"] if isinstance(entry["content"], dict) else {}
        description = "; ".join(
            map(str, [*content.get("diagnoses", []), *content.get("results", [])])
        ) or str(content.get("notes", "") or HistoryEntry.Type(entry["type"]).label)
        yield {
            "date": _day(entry["date"]),
            "event_type": entry["type"],
            "description": description[:300],
            "medications": _medications(content),
            "doctor": content.get("doctor", ""),
            "notes": content.get("notes", ""),
            "history_id": entry["id"],
            "document_id": entry["document_id"],
            "_content": content,
        }


def _note_events(patient_id: str):
    for note in Note.objects.filter(patient_id=patient_id).values("id", "created_at", "content"):
        content = note["content"]
        text = content if isinstance(content, str) else ""
        if isinstance(content, dict):
            text = next((str(content[k]) for k in NOTE_TEXT if content.get(k)), "")
        yield {
            "date": _day(note["created_at"]),
            "event_type": "note",
            "description": text[:300],
            "note_id": note["id"],
            "_content": content if isinstance(content, dict) else {},
        }


def _document_events(patient_id: str):
    rows = Document.objects.filter(patient_id=patient_id).values(
        "id", "uploaded_at", "kind", "original_name", "status", "reviewed_at"
    )
    for doc in rows:
        state = "reviewed" if doc["reviewed_at"] else "awaiting review"
        yield {
            "date": _day(doc["uploaded_at"]),
            "event_type": "document",
            "description": f"{doc['kind'].upper()} uploaded: {doc['original_name']} ({state})",
            "document_id": doc["id"],
            "_content": {},
        }


def _listed(events, key: str) -> list[str]:
    seen = {}
    for event in events:
        for item in event["_content"].get(key, []) or []:
            seen.setdefault(str(item).strip().lower(), str(item).strip())
    return [v for k, v in seen.items() if k]


def _chronic(events) -> list[str]:
    """Conditions named as chronic, or diagnosed on two or more different days."""
    days = Counter()
    names = {}
    for event in events:
        for diagnosis in event["_content"].get("diagnoses", []) or []:
            key = str(diagnosis).strip().lower()
            names.setdefault(key, str(diagnosis).strip())
            days[(key, event["date"])] += 1
    per_condition = Counter(key for key, _ in days)
    chronic = {k for k, n in per_condition.items() if n >= 2}
    return sorted({names[k] for k in chronic} | set(_listed(events, "chronic_conditions")))


def _current_medications(events) -> list[dict]:
    """The medications of the most recent prescription day."""
    prescriptions = [e for e in events if e["medications"] and e.get("date")]
    if not prescriptions:
        prescriptions = [e for e in events if e.get("medications")]
        return [m for e in prescriptions[-1:] for m in e["medications"]]
    latest = max(e["date"] for e in prescriptions)
    return [
        {**m, "prescribed_date": m.get("prescribed_date") or e["date"]}
        for e in prescriptions
        if e["date"] == latest
        for m in e["medications"]
    ]


def _plain_summary(data: dict) -> str:
    events = data["timeline_events"]
    dated = [e["date"] for e in events if e.get("date")]
    span = f" from {min(dated)} to {max(dated)}" if dated else ""
    meds = ", ".join(m.get("name", "") for m in data["current_medications"]) or "none recorded"
    return (
        f"{len(events)} events{span}. Current medications: {meds}. "
        f"Chronic conditions: {', '.join(data['chronic_conditions']) or 'none recorded'}. "
        f"Allergies: {', '.join(data['allergies']) or 'none recorded'}. "
        f"{data['total_documents']} document(s) on file."
    )


def medical_timeline_data(*, patient_id: str) -> dict:
    """What the timeline says, computed from its sources (three queries)."""
    events = [
        *_history_events(patient_id),
        *_note_events(patient_id),
        *_document_events(patient_id),
    ]
    events.sort(key=lambda e: (e["date"] is None, e["date"] or "", e["event_type"]))
    for event in events:
        event.setdefault("medications", [])
    data = {
        "total_documents": sum(1 for e in events if e["event_type"] == "document"),
        "current_medications": _current_medications(events),
        "chronic_conditions": _chronic(events),
        "allergies": _listed(events, "allergies"),
    }
    data["timeline_events"] = [{k: v for k, v in e.items() if k != "_content"} for e in events]
    summariser = settings.MEDICAL_TIMELINE_SUMMARISER
    data["summary"] = import_string(summariser)(data) if summariser else _plain_summary(data)
    return data


def _fingerprint(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def medical_timeline_rebuild(*, patient_id: str) -> MedicalTimeline:
    """Build the patient's timeline again; saved (and audited) only when it changed."""
    data = medical_timeline_data(patient_id=patient_id)
    fingerprint = _fingerprint(data)
    pk = timeline_id(patient_id)
    timeline = MedicalTimeline.objects.filter(pk=pk).first()
    if timeline is not None and timeline.fingerprint == fingerprint:
        return timeline
    if timeline is None:
        timeline = MedicalTimeline(pk=pk, patient_id=patient_id, kind=MedicalTimeline.Kind.CLINIC)
    for field, value in data.items():
        setattr(timeline, field, value)
    timeline.fingerprint, timeline.generated_at = fingerprint, timezone.now()
    timeline.save()
    return timeline


def medical_timeline_get(*, patient_id: str) -> MedicalTimeline:
    return medical_timeline_rebuild(patient_id=patient_id)


def document_entries(patient_id: str):
    """Hook for the patient timeline page (settings.PATIENT_TIMELINE_SOURCES)."""
    rows = Document.objects.filter(patient_id=patient_id).values(
        "id", "uploaded_at", "kind", "original_name", "status", "reviewed_at", "thumbnail"
    )
    for doc in rows:
        state = "reviewed" if doc["reviewed_at"] else f"{doc['status']}, awaiting review"
        yield {
            "at": doc["uploaded_at"],
            "kind": "document",
            "source": "documents.document",
            "object_id": doc["id"],
            "title": f"Document uploaded: {doc['original_name'] or doc['kind']}",
            "detail": state,
            "image": reverse("document-thumbnail", args=[doc["id"]]) if doc["thumbnail"] else "",
        }


def medical_timeline_entries(patient_id: str):
    """Hook for the patient timeline page: clinic's timeline and legacy AI timelines.

    Clinic's timeline exists once the patient has a document; it is brought up to date here
    (notes and history change without a documents service knowing)."""
    if MedicalTimeline.objects.filter(pk=timeline_id(patient_id)).exists():
        medical_timeline_rebuild(patient_id=patient_id)
    rows = MedicalTimeline.objects.filter(patient_id=patient_id).values(
        "id", "kind", "generated_at", "summary", "batch_id", "total_documents"
    )
    for row in rows:
        ai = row["kind"] == MedicalTimeline.Kind.AI
        batch = f" from batch {row['batch_id']}" if row["batch_id"] else ""
        title = f"AI-generated timeline{batch}" if ai else "Medical timeline (built by clinic)"
        yield {
            "at": row["generated_at"],
            "kind": "timeline",
            "source": "documents.medicaltimeline",
            "object_id": row["id"],
            "title": title,
            "detail": row["summary"][:300],
        }
