"""Domain IDs: `PREFIX_` + 8 upper-case hex digits, the form the legacy system used."""

import hashlib
import json
import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4).upper()}"


# The text the canonical encoder writes must never change, or re-imports would stop finding the
# records they created: `json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)`.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)


def _canonical(parts) -> str:
    return _CANONICAL.encode(parts)


def derived_id(prefix: str, *parts: object) -> str:
    """An ID that is the same every time for the same content (re-imports must not duplicate)."""
    digest = hashlib.sha256(_canonical(parts).encode()).hexdigest()
    return f"{prefix}_{digest[:16].upper()}"


# Module-level callables so migrations can reference them as field defaults.
def new_patient_id() -> str:
    return new_id("PAT")


def new_queue_id() -> str:
    return new_id("Q")


def new_note_id() -> str:
    return new_id("NOTE")


def new_history_id() -> str:
    return new_id("HIST")


def new_treatment_id() -> str:
    return new_id("TRT")


def new_tumour_id() -> str:
    return new_id("TUM")


def new_event_id() -> str:
    return new_id("EVT")


def new_episode_id() -> str:
    """A fresh 24-hex-digit ID shaped like the MongoDB ObjectIds legacy episodes carry."""
    return secrets.token_hex(12)


def new_document_id() -> str:
    return new_id("DOC")


def new_batch_id() -> str:
    return new_id("BATCH")


def new_timeline_id() -> str:
    return new_id("TL")


def new_allergy_id() -> str:
    return new_id("ALG")


def new_amendment_id() -> str:
    return new_id("AMD")


def new_vitals_id() -> str:
    return new_id("VIT")


def new_room_id() -> str:
    return new_id("ROOM")
