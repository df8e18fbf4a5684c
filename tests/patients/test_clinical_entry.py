"""Structured clinical entry without JSON, allergies, and signed notes with amendments: the
admin forms submitted as a browser sends them (every field the page holds), and the API."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from patients.clinical import parse_medication
from patients.models import Allergy, HistoryEntry, Note, NoteAmendment
from tests.browser_form import errors_of, rendered_form, submit
from tests.clients import client_for
from tests.factories import HistoryEntryFactory, NoteFactory, PatientFactory

API = "/api/v1"
pytestmark = pytest.mark.django_db
METFORMIN = {"drug": "Metformin", "dose": "500mg", "route": "oral", "frequency": "BD",
             "duration": "30 days"}  # fmt: skip


def change_url(model: str, obj) -> str:
    return reverse(f"admin:patients_{model}_change", args=[quote(obj.pk)])


def add_url(model: str) -> str:
    return reverse(f"admin:patients_{model}_add")


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("Tab Metformin 500mg BD x 30 days", METFORMIN),
        ("Paracetamol 500 mg TDS for 5 days",
         {"drug": "Paracetamol", "dose": "500 mg", "frequency": "TDS", "duration": "5 days"}),
        ("Inj Insulin glargine 10 units SC HS",
         {"drug": "Insulin glargine", "dose": "10 units", "route": "SC", "frequency": "HS"}),
        ("Amoxicillin", {"drug": "Amoxicillin"}),
    ],
)  # fmt: skip
def test_a_medicine_typed_as_written_splits_into_its_parts(typed, parsed):
    assert {k: v for k, v in parse_medication(typed).items() if v} == parsed


def test_doctor_enters_a_prescription_line_without_json(doctor):
    patient = PatientFactory()
    page = client_for(doctor).get(add_url("historyentry"))
    assert 'name="content"' not in page.content.decode()
    response = submit(
        client_for(doctor),
        add_url("historyentry"),
        {
            "patient": patient.pk,
            "type": "prescription",
            "medications-0-drug": "Tab Metformin 500mg BD x 30 days",
            "medications-1-drug": "Atorvastatin",
            "medications-1-dose": "10 mg",
            "medications-1-frequency": "HS",
            "diagnoses-0-name": "Type 2 diabetes",
            "diagnoses-0-icd10_code": "e11.9",
            "doctor": "Dr Khan",
        },
    )
    assert response.status_code == 302, errors_of(response)
    entry = HistoryEntry.objects.get(patient=patient)
    assert entry.content == {
        "medications": [METFORMIN, {"drug": "Atorvastatin", "dose": "10 mg", "frequency": "HS"}],
        "diagnoses": [{"name": "Type 2 diabetes", "icd10_code": "E11.9"}],
        "doctor": "Dr Khan",
    }


def test_lab_results_and_a_visit_are_entered_as_rows_and_text(doctor):
    patient = PatientFactory()
    response = submit(
        client_for(doctor),
        add_url("historyentry"),
        {
            "patient": patient.pk,
            "type": "lab_result",
            "lab_results-0-test": "HbA1c",
            "lab_results-0-value": "7.2",
            "lab_results-0-unit": "%",
            "lab_results-0-reference_range": "4.0-5.6",
            "notes": "Fasting sample",
        },
    )
    assert response.status_code == 302, errors_of(response)
    assert HistoryEntry.objects.get(patient=patient).content == {
        "lab_results": [{"test": "HbA1c", "value": "7.2", "unit": "%",
                         "reference_range": "4.0-5.6"}],
        "notes": "Fasting sample",
    }  # fmt: skip


def test_a_bad_icd10_code_is_refused_with_a_clear_message_and_nothing_saved(doctor):
    patient = PatientFactory()
    response = submit(
        client_for(doctor),
        add_url("historyentry"),
        {"patient": patient.pk, "type": "diagnosis", "diagnoses-0-name": "Asthma",
         "diagnoses-0-icd10_code": "asthma"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "is not an ICD-10 code" in response.content.decode()
    assert not HistoryEntry.objects.filter(patient=patient).exists()


def test_saving_a_legacy_entry_unchanged_keeps_its_content_exactly(doctor):
    legacy = {"medications": ["Paracetamol 500mg after food"], "diagnoses": [],
              "doctor": "Dr Rao", "visit_reason": "fever"}  # fmt: skip
    entry = HistoryEntryFactory(content=legacy)
    page = client_for(doctor).get(change_url("historyentry", entry))
    assert "visit_reason" in page.content.decode()  # other keys: shown read-only, collapsed
    response = submit(client_for(doctor), change_url("historyentry", entry))
    assert response.status_code == 302, errors_of(response)
    entry.refresh_from_db()
    assert entry.content == legacy


def test_doctor_edits_a_medicine_on_the_patient_page(doctor):
    entry = HistoryEntryFactory(content={"medications": ["Paracetamol 500mg"], "x": 1})
    response = submit(
        client_for(doctor),
        change_url("patient", entry.patient),
        {"history-0-medications-1-drug": "Tab Metformin 500mg BD x 30 days"},
    )
    assert response.status_code == 302, errors_of(response)
    entry.refresh_from_db()
    assert entry.content == {"medications": ["Paracetamol 500mg", METFORMIN], "x": 1}


def test_nurse_saves_the_page_of_a_patient_with_notes_history_and_allergies(nurse):
    entry = HistoryEntryFactory()
    NoteFactory(patient=entry.patient)
    Allergy.objects.create(patient=entry.patient, substance="Sulfa")
    url = change_url("patient", entry.patient)
    response = submit(client_for(nurse), url, {"name": "Renamed Patient"})
    assert response.status_code == 302, errors_of(response)
    entry.patient.refresh_from_db()
    assert entry.patient.name == "Renamed Patient"


def test_nurse_records_an_allergy_on_the_patient_page(nurse):
    patient = PatientFactory()
    response = submit(
        client_for(nurse),
        change_url("patient", patient),
        {"allergies-TOTAL_FORMS": "1", "allergies-0-substance": "Penicillin",
         "allergies-0-reaction": "Rash", "allergies-0-severity": "moderate"},
    )  # fmt: skip
    assert response.status_code == 302, errors_of(response)
    allergy = Allergy.objects.get(patient=patient)
    assert (allergy.substance, allergy.severity, allergy.recorded_by) == (
        "Penicillin", "moderate", "nurse_rekha",
    )  # fmt: skip


def test_records_reads_allergies_but_cannot_add_them(records):
    allergy = Allergy.objects.create(patient=PatientFactory(), substance="Latex")
    page = client_for(records).get(change_url("patient", allergy.patient))
    assert "Latex" in page.content.decode()
    assert client_for(records).get(add_url("allergy")).status_code == 403


def test_a_change_to_a_signed_note_needs_a_reason_and_keeps_the_original(nurse, doctor):
    note = NoteFactory(content={"subjective": "Headache", "assessment": "Tension"})
    url = change_url("note", note)
    refused = submit(client_for(doctor), url, {"assessment": "Migraine"})
    assert refused.status_code == 200
    assert "Say why you are changing this signed note." in refused.content.decode()
    response = submit(
        client_for(doctor), url, {"assessment": "Migraine", "amendment_reason": "Aura reported"}
    )
    assert response.status_code == 302, errors_of(response)
    note.refresh_from_db()
    assert note.content == {"subjective": "Headache", "assessment": "Migraine"}
    assert note.created_by == "nurse_rekha"  # the author stays
    amendment = NoteAmendment.objects.get(note=note)
    assert (amendment.amended_by, amendment.reason) == ("dr_khan", "Aura reported")
    assert amendment.previous_content == {"subjective": "Headache", "assessment": "Tension"}
    page = client_for(nurse).get(url).content.decode()
    assert "Aura reported" in page and "Tension" in page  # the original stays visible


def test_a_note_amended_on_the_patient_page_keeps_its_author(doctor):
    note = NoteFactory(content={"plan": "Rest"})
    url = change_url("patient", note.patient)
    data = rendered_form(client_for(doctor).get(url))
    assert data["notes-0-id"] == note.pk  # the inline's id box is on the page
    response = submit(
        client_for(doctor),
        url,
        {"notes-0-plan": "Rest, fluids", "notes-0-amendment_reason": "Added"},
    )
    assert response.status_code == 302, errors_of(response)
    note.refresh_from_db()
    assert (note.content, note.created_by) == ({"plan": "Rest, fluids"}, "nurse_rekha")
    assert note.amendments.get().previous_content == {"plan": "Rest"}


def test_api_patch_of_a_note_is_an_amendment_that_needs_a_reason(client_as):
    note = NoteFactory(content={"subjective": "Cough"})
    client = client_as("doctor")
    refused = client.patch(f"{API}/notes/{note.pk}/", {"content": {"subjective": "Dry cough"}},
                           format="json")  # fmt: skip
    assert refused.status_code == 400
    assert "reason" in refused.json()["error"]["fields"]
    response = client.patch(
        f"{API}/notes/{note.pk}/",
        {"content": {"subjective": "Dry cough"}, "reason": "Clarified"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["created_by"] == "nurse_rekha"
    amendments = client_as("records").get(f"{API}/notes/{note.pk}/amendments/").json()
    assert [(a["reason"], a["previous_content"], a["amended_by"]) for a in amendments] == [
        ("Clarified", {"subjective": "Cough"}, "dr_khan")
    ]


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        ({"medications": ["Paracetamol 500mg"], "diagnoses": ["Fever"]}, 201, None),
        ({"medications": [METFORMIN]}, 201, None),
        ({"medications": [{"dose": "500mg"}]}, 400, "Medication 1 needs a drug."),
        ({"diagnoses": [{"name": "Asthma", "icd10_code": "ZZZ9"}]}, 400, "not an ICD-10 code"),
        ({"lab_results": [{"value": "7"}]}, 400, "Lab result 1 needs a test."),
        ({"medications": "Metformin"}, 400, "medications must be a list."),
    ],
)
def test_api_history_accepts_legacy_and_structured_shapes(client_as, content, status, message):
    patient = PatientFactory()
    response = client_as("doctor").post(
        f"{API}/history/",
        {"patient": patient.pk, "type": "prescription", "content": content},
        format="json",
    )
    assert response.status_code == status, response.json()
    if message:
        assert message in str(response.json()["error"])


@pytest.mark.parametrize(("role", "status"), [("nurse", 201), ("doctor", 201),
                                              ("records", 403), ("anonymous", 401)])  # fmt: skip
def test_api_allergies_per_role(client_as, role, status):
    patient = PatientFactory()
    response = client_as(role).post(
        f"{API}/allergies/", {"patient": patient.pk, "substance": "Peanuts"}, format="json"
    )
    assert response.status_code == status
    listed = client_as("records").get(f"{API}/patients/{patient.pk}/allergies/").json()
    assert [a["substance"] for a in listed["results"]] == (["Peanuts"] if status == 201 else [])


def test_new_notes_are_signed_with_author_and_time(nurse):
    patient = PatientFactory()
    response = submit(client_for(nurse), add_url("note"),
                      {"patient": patient.pk, "type": "manual", "text": "Called back"})  # fmt: skip
    assert response.status_code == 302, errors_of(response)
    note = Note.objects.get(patient=patient)
    assert (note.created_by, note.content) == ("nurse_rekha", {"text": "Called back"})
    assert not note.amendments.exists()
