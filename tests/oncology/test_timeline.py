"""Patient timeline: order across sources, role filtering, one query per source, API access."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncology.timeline import patient_timeline
from tests.factories import (
    EpisodeFactory,
    HistoryEntryFactory,
    NoteFactory,
    PatientFactory,
    QueueEntryFactory,
    TreatmentFactory,
    TumourFactory,
)
from tests.oncology.test_cosd import at

ONCOLOGY = {"oncology.episode", "oncology.tumour", "oncology.treatment"}


def build_history(patient, copies: int = 1):
    """A realistic pathway: a GP visit, referral, first seen, diagnosis, MDT, surgery, notes."""
    for n in range(copies):
        HistoryEntryFactory(
            patient=patient,
            type="visit",
            date=at(f"2024-08-0{n + 1}"),
            content={"diagnoses": ["Rectal bleeding"], "doctor": "Dr Rao"},
        )
        episode = EpisodeFactory(
            patient=patient,
            referral_date=at(f"2024-09-1{n}"),
            first_seen_date=at(f"2024-09-2{n}"),
            mdt_discussion_date=at(f"2024-10-0{n + 5}"),
        )
        TumourFactory(episode=episode, diagnosis_date=at(f"2024-10-0{n + 1}"))
        TreatmentFactory(episode=episode, treatment_date=at(f"2024-10-2{n}"), opcs4_code="H081")
        NoteFactory(patient=patient, created_at=at(f"2024-10-2{n}"))
        QueueEntryFactory(patient=patient, added_at=at(f"2024-11-0{n + 1}"))


@pytest.fixture
def patient(db):
    patient = PatientFactory()
    build_history(patient)
    HistoryEntryFactory(patient=patient, date=None, content={"medications": ["Iron"]})
    return patient


def test_entries_come_oldest_first_across_every_source_with_undated_last(patient, doctor):
    kinds = [e.kind for e in patient_timeline(patient_id=patient.pk, user=doctor)]

    assert kinds == [
        "history",
        "referral",
        "first_seen",
        "diagnosis",
        "mdt",
        "treatment",
        "note",
        "visit",
        "history",
    ]


def test_on_the_same_instant_the_treatment_precedes_the_note(patient, doctor):
    entries = patient_timeline(patient_id=patient.pk, user=doctor)

    same_day = [e.kind for e in entries if e.at == at("2024-10-20")]
    assert same_day == ["treatment", "note"]


def test_a_nurse_sees_history_notes_and_visits_but_no_oncology(patient, nurse):
    entries = patient_timeline(patient_id=patient.pk, user=nurse)

    assert {e.source for e in entries} == {
        "patients.historyentry",
        "patients.note",
        "queue_app.queueentry",
    }


def test_another_patients_records_never_appear(patient, doctor):
    build_history(PatientFactory())

    entries = patient_timeline(patient_id=patient.pk, user=doctor)

    assert len(entries) == 9


def test_queries_do_not_grow_with_the_number_of_records(doctor, db):
    small, large = PatientFactory(), PatientFactory()
    build_history(small, copies=1)
    build_history(large, copies=4)
    patient_timeline(patient_id=small.pk, user=doctor)  # loads the user's permissions once

    with CaptureQueriesContext(connection) as few:
        patient_timeline(patient_id=small.pk, user=doctor)
    with CaptureQueriesContext(connection) as many:
        entries = patient_timeline(patient_id=large.pk, user=doctor)

    # Seven sources of its own, three through settings.PATIENT_TIMELINE_SOURCES (documents).
    assert len(many) == len(few) == 10
    assert len(entries) == 4 * 8


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("doctor", 200), ("records", 200), ("nurse", 200), ("superuser", 200), ("no_role", 403)],
)
def test_timeline_api_access_per_role(request, api_client_for, patient, persona, expected):
    user = request.getfixturevalue(persona)

    response = api_client_for(user).get(f"/api/v1/patients/{patient.pk}/timeline/")

    assert response.status_code == expected
    if expected == 200:
        sources = {entry["source"] for entry in response.json()["results"]}
        assert bool(sources & ONCOLOGY) is (persona != "nurse")


def test_timeline_api_answers_in_order_with_the_entry_fields(api_client_for, doctor, patient):
    body = api_client_for(doctor).get(f"/api/v1/patients/{patient.pk}/timeline/").json()

    assert body["patient"] == patient.pk
    first = body["results"][0]
    assert set(first) == {"at", "kind", "source", "object_id", "title", "detail", "facts"}
    stamps = [entry["at"] for entry in body["results"] if entry["at"]]
    assert stamps == sorted(stamps)
    assert body["results"][-1]["at"] is None


def test_timeline_api_unknown_patient_is_404_and_anonymous_is_401(
    api_client_for, doctor, anonymous, db
):
    assert api_client_for(doctor).get("/api/v1/patients/PAT_NOPE/timeline/").status_code == 404
    assert anonymous.get("/api/v1/patients/PAT_NOPE/timeline/").status_code == 401


def test_admin_timeline_page_draws_every_entry_in_order_for_a_doctor(client, doctor, patient):
    client.force_login(doctor)

    page = client.get(f"/admin/patients/patient/{patient.pk}/timeline/")

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<li class="') == 9
    assert html.index("Referral:") < html.index("tumour diagnosed") < html.index("Clinic visit")


def test_admin_timeline_page_hides_oncology_from_a_nurse(client, nurse, patient):
    client.force_login(nurse)

    html = client.get(f"/admin/patients/patient/{patient.pk}/timeline/").content.decode()

    assert "Clinic visit" in html and "tumour diagnosed" not in html and "Referral:" not in html


def test_admin_timeline_page_needs_patient_view_permission(client, no_role, patient):
    client.force_login(no_role)

    assert client.get(f"/admin/patients/patient/{patient.pk}/timeline/").status_code == 403
