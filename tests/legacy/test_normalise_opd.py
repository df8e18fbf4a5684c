"""Normalisers on the real OPD shapes and on crafted values (issue 11, "Why")."""

import json
from decimal import Decimal

import pytest

from legacy import normalise
from legacy.normalise import Rejected

pytestmark = pytest.mark.django_db(databases=[])


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00", "9999-12-31T23:59:59"])
def test_a_placeholder_or_out_of_range_date_is_a_reject_with_a_reason(value):
    with pytest.raises(Rejected, match="outside the years"):
        normalise.queue_entry(
            {
                "queue_id": "Q_1",
                "patient_id": "P",
                "token_number": 1,
                "status": "waiting",
                "added_at": value,
            }
        )


def test_queue_status_in_progress_reads_as_in_consultation_and_says_so():
    row = normalise.queue_entry(
        {
            "queue_id": "Q_1",
            "patient_id": "P",
            "token_number": 1,
            "status": "in_progress",
            "added_at": "2025-11-08T16:30:02",
        }
    )
    assert row["status"] == "in_consultation"
    assert row["_notes"] == ["status in_progress read as in_consultation"]
    plain = normalise.queue_entry(
        {
            "queue_id": "Q_2",
            "patient_id": "P",
            "token_number": 1,
            "status": "waiting",
            "added_at": "2025-11-08T16:30:02",
        }
    )
    assert "_notes" not in plain


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("TEST123", "TEST123"),
        (91234567890123, "91234567890123"),
        ("91234567890123", "91234567890123"),
        ("IW000123", "IW000123"),
        ("MH/2024/0012", "MH/2024/0012"),
        ("UH-12-34", "UH-12-34"),
        (123456789, "123456789"),
        (Decimal("9.1234567890123E+13"), "91234567890123"),
    ],
)
def test_uhids_in_the_hospitals_own_formats(given, stored):
    assert normalise.patient({"name": "A", "uhid": given}, "PAT_1")["uhid"] == stored


@pytest.mark.parametrize("given", ["UH 12", "a@b", "-12", float("nan")])
def test_what_is_no_hospital_number_is_rejected(given):
    with pytest.raises(Rejected):
        normalise.patient({"name": "A", "uhid": given}, "PAT_1")


def test_opd_patient_visit_fields_are_kept_for_export():
    row = normalise.patient(
        {"name": "A", "status": "active", "last_visit": "2025-11-08T16:40:12", "visit_count": 3},
        "PAT_1",
    )
    assert row["extra"] == {
        "status": "active",
        "last_visit": "2025-11-08T16:40:12",
        "visit_count": 3,
    }


def test_exact_numbers_go_to_extra_in_a_form_every_backend_stores():
    row = normalise.patient(
        {
            "name": "A",
            "big": 2**70,
            "huge": Decimal("1E+400"),
            "nan": float("nan"),
            "inf": float("-inf"),
            "ok": 1.5,
        },
        "PAT_1",
    )
    assert row["extra"] == {
        "big": {"$numberDecimal": str(2**70)},
        "huge": {"$numberDecimal": "1E+400"},
        "nan": {"$numberDouble": "NaN"},
        "inf": {"$numberDouble": "-Infinity"},
        "ok": 1.5,
    }
    json.dumps(row["extra"], allow_nan=False)


def test_an_opd_note_is_a_soap_note():
    row = normalise.note(
        {
            "note_id": "NOTE_1",
            "created_at": "2025-11-08T12:17:55.850000",
            "audio_file": "PAT_1_audio_9b5db643.m4a",
            "transcript": "चार देन से बुखार है",
            "soap_note": {
                "subjective": "Fever 4 days",
                "objective": "",
                "assessment": "AFI",
                "plan": "",
                "chief_complaint": "Fever",
                "medications": ["PCM"],
                "language": "mixed",
            },
        },
        "PAT_1",
    )
    assert row["type"] == "SOAP" and row["language"] == "mixed"
    assert row["content"] == {
        "subjective": "Fever 4 days",
        "objective": "",
        "assessment": "AFI",
        "plan": "",
        "chief_complaint": "Fever",
        "medications": ["PCM"],
    }
    assert row["transcript"] == "चार देन से बुखार है"
    assert row["audio_file_url"] == "PAT_1_audio_9b5db643.m4a" and row["extra"] == {}


def test_a_note_with_both_audio_fields_keeps_the_other_in_extra():
    row = normalise.note(
        {"content": "x", "audio_file_url": "s3://b/k.m4a", "audio_file": "k.m4a"}, "PAT_1"
    )
    assert row["audio_file_url"] == "s3://b/k.m4a" and row["extra"] == {"audio_file": "k.m4a"}


def test_a_timeline_summary_is_never_rejected_and_is_dated_by_created_at():
    row = normalise.history_entry(
        {
            "history_id": "TIMELINE_10CFA0D8",
            "created_at": "2025-11-08T13:07:38.889451",
            "batch_id": "BATCH_BC45D072",
            "type": "comprehensive_timeline",
            "document_count": 2,
            "timeline_summary": "Lower back pain.",
            "event_count": 1,
            "current_medications_count": 3,
        },
        "PAT_1",
    )
    assert row["type"] == "comprehensive_timeline" and row["batch_id"] == "BATCH_BC45D072"
    assert row["content"] == {
        "summary": "Lower back pain.",
        "document_count": 2,
        "event_count": 1,
        "current_medications_count": 3,
    }
    assert row["date"] == row["created_at"] and row["extra"] == {}
