"""The OPD system's notes and AI timeline summaries as staff see them: admin, API, timeline."""

import pytest
from django.urls import reverse

from patients.models import HistoryEntry, Note
from tests.admin_forms import AdminForm, assert_saved
from tests.clients import client_for
from tests.factories import HistoryEntryFactory, NoteFactory, PatientFactory
from tests.patients.test_admin import admin_url

API = "/api/v1"
OPD_CONTENT = {
    "subjective": "Cough for three days.",
    "objective": "",
    "assessment": "URTI",
    "plan": "Steam inhalation",
    "chief_complaint": "Cough for 3 days",
    "medications": ["Paracetamol 500mg SOS", "Cetirizine 10mg OD"],
}
SUMMARY = {
    "summary": "Diagnosed with diabetes; on Tripride-2-forte and Lipikind-10.",
    "document_count": 4,
    "event_count": 2,
    "current_medications_count": 2,
}


@pytest.fixture
def opd_note(db):
    return NoteFactory(
        type=Note.Type.SOAP,
        content=OPD_CONTENT,
        language="pa",
        transcript="ਮੈਨੂੰ ਤਿੰਨ ਦਿਨਾਂ ਤੋਂ ਖੰਘ ਹੈ",
        audio_file_url="PAT_5308F7E6_audio_2e5ddebf.m4a",
    )


@pytest.fixture
def summary(opd_note):
    return HistoryEntryFactory(
        patient=opd_note.patient,
        type=HistoryEntry.Type.TIMELINE_SUMMARY,
        content=SUMMARY,
        batch_id="BATCH_00E5586D",
        date=opd_note.created_at,
    )


def test_admin_note_shows_chief_complaint_medications_language_and_transcript(nurse, opd_note):
    page = client_for(nurse).get(admin_url("note", "change", opd_note))
    form = page.context["adminform"].form
    assert form.initial["chief_complaint"] == "Cough for 3 days"
    assert form.initial["medications"] == "Paracetamol 500mg SOS\nCetirizine 10mg OD"
    assert "content" not in form.fields  # no raw JSON box
    html = page.content.decode()
    assert "ਮੈਨੂੰ ਤਿੰਨ ਦਿਨਾਂ ਤੋਂ ਖੰਘ ਹੈ" in html and 'value="pa"' in html


def test_admin_note_form_writes_the_boxes_back_into_content(nurse, opd_note):
    form = AdminForm.open(client_for(nurse), admin_url("note", "change", opd_note))
    form["chief_complaint"] = "Cough, 4 days"
    form["medications"] = "Cetirizine 10mg OD\n\n  Honey  \n"
    form["language"], form["transcript"] = "hi", "corrected"
    form["amendment_reason"] = "corrected the transcript"
    assert_saved(form.submit())
    opd_note.refresh_from_db()
    assert opd_note.content["chief_complaint"] == "Cough, 4 days"
    assert opd_note.content["medications"] == ["Cetirizine 10mg OD", "Honey"]
    assert (opd_note.language, opd_note.transcript) == ("hi", "corrected")


def test_admin_read_only_note_shows_the_boxes_not_json(records, opd_note):
    html = client_for(records).get(admin_url("note", "change", opd_note)).content.decode()
    assert "Cough for 3 days" in html and "Paracetamol 500mg SOS, Cetirizine 10mg OD" in html


def test_admin_history_shows_the_timeline_summary_text(doctor, records, summary):
    for user in (doctor, records):
        html = client_for(user).get(admin_url("historyentry", "change", summary)).content.decode()
        assert "Diagnosed with diabetes; on Tripride-2-forte and Lipikind-10." in html
        assert "documents: 4" in html and "BATCH_00E5586D" in html


def test_admin_patient_page_inline_shows_the_summary(doctor, summary):
    html = client_for(doctor).get(admin_url("patient", "change", summary.patient)).content
    assert "Diagnosed with diabetes" in html.decode()


def test_api_note_has_explicit_fields_for_the_opd_parts(client_as, opd_note):
    body = client_as("doctor").get(f"{API}/notes/{opd_note.pk}/").json()
    assert body["chief_complaint"] == "Cough for 3 days"
    assert body["medications"] == ["Paracetamol 500mg SOS", "Cetirizine 10mg OD"]
    assert body["language"] == "pa" and body["transcript"].startswith("ਮੈਨੂੰ")
    assert body["audio_file_url"] == "PAT_5308F7E6_audio_2e5ddebf.m4a"
    assert body["content"] == OPD_CONTENT


def test_api_accepts_language_and_transcript_and_the_current_shapes(client_as, db):
    patient = PatientFactory()
    response = client_as("nurse").post(
        f"{API}/notes/",
        {"patient": patient.pk, "type": "SOAP", "content": OPD_CONTENT, "language": "hi",
         "transcript": "बुखार"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert (response.json()["language"], response.json()["chief_complaint"]) == (
        "hi",
        "Cough for 3 days",
    )
    plain = client_as("nurse").post(
        f"{API}/notes/", {"patient": patient.pk, "content": {"subjective": "x"}}, format="json"
    )
    assert plain.status_code == 201 and plain.json()["medications"] == []


def test_api_history_gives_the_summary_and_batch(client_as, summary):
    body = client_as("doctor").get(f"{API}/history/{summary.pk}/").json()
    assert body["type"] == "comprehensive_timeline"
    assert body["summary"] == SUMMARY["summary"] and body["batch_id"] == "BATCH_00E5586D"
    other = HistoryEntryFactory(patient=summary.patient, content={"notes": "x"})
    assert client_as("doctor").get(f"{API}/history/{other.pk}/").json()["summary"] == ""


def test_timeline_shows_note_facts_and_the_summary_text(api_client_for, doctor, summary):
    url = f"{API}/patients/{summary.patient_id}/timeline/"
    results = api_client_for(doctor).get(url).json()["results"]
    by_source = {r["source"]: r for r in results}
    note = by_source["patients.note"]
    assert {f["label"]: f["value"] for f in note["facts"]} == {
        "Chief complaint": "Cough for 3 days",
        "Medications": "Paracetamol 500mg SOS, Cetirizine 10mg OD",
        "Language": "pa",
        "Transcript": "ਮੈਨੂੰ ਤਿੰਨ ਦਿਨਾਂ ਤੋਂ ਖੰਘ ਹੈ",
    }
    entry = by_source["patients.historyentry"]
    assert entry["title"] == "AI timeline summary" and entry["detail"] == SUMMARY["summary"]
    assert {"label": "Documents", "value": "4"} in entry["facts"]

    page = client_for(doctor).get(reverse("patient_timeline", args=[summary.patient_id]))
    html = page.content.decode()
    assert SUMMARY["summary"] in html and "Chief complaint:" in html and "Cough for 3 days" in html


def test_api_history_accepts_a_batch_id(client_as, opd_note):
    response = client_as("doctor").post(
        f"{API}/history/",
        {"patient": opd_note.patient_id, "type": "comprehensive_timeline", "content": SUMMARY,
         "batch_id": "BATCH_1"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert (response.json()["summary"], response.json()["batch_id"]) == (
        SUMMARY["summary"],
        "BATCH_1",
    )
