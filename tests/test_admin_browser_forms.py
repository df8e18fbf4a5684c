"""Every admin add/change page with inlines, submitted as a browser does, for each role that
may save it: the rendered form (management forms, inline `-id` fields) goes back as it came."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from oncology.models import Episode
from queue_app.models import QueueEntry
from tests.admin_forms import AdminForm, assert_saved
from tests.clients import client_for
from tests.factories import (
    EpisodeFactory,
    HistoryEntryFactory,
    NoteFactory,
    PatientFactory,
    TreatmentFactory,
    TumourFactory,
)


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


@pytest.fixture
def charted(db):
    """A patient with a note and a history entry, as most patients have after a visit."""
    patient = PatientFactory(name="Asha Rao", phone="+919876543210")
    NoteFactory(patient=patient)
    HistoryEntryFactory(patient=patient)
    return patient


@pytest.mark.parametrize("role", ["nurse", "doctor", "superuser"])
def test_patient_page_with_note_and_history_saves_unchanged(request, role, charted):
    client = client_for(request.getfixturevalue(role))
    form = AdminForm.open(client, change_url(charted))
    assert form["notes-0-id"] == charted.notes.get().pk
    if role != "nurse":  # a nurse reads history; the read-only inline has no id to send
        assert form["history-0-id"] == charted.history.get().pk
    assert_saved(form.submit())
    assert charted.notes.count() == 1 and charted.history.count() == 1


@pytest.mark.parametrize("role", ["nurse", "doctor"])
def test_patient_page_saves_an_edited_name_and_a_new_note(request, role, charted):
    user = request.getfixturevalue(role)
    note = charted.notes.get()
    form = AdminForm.open(client_for(user), change_url(charted))
    form["name"] = "Asha K Rao"
    form.add_inline("notes", type="SOAP", subjective="Dizzy", plan="Review BP")
    assert_saved(form.submit())
    charted.refresh_from_db()
    assert charted.name == "Asha K Rao"
    added = charted.notes.exclude(pk=note.pk).get()
    assert (added.created_by, added.content) == (
        user.username,
        {"subjective": "Dizzy", "plan": "Review BP"},
    )


def test_doctor_edits_a_history_entry_on_the_patient_page(doctor, charted):
    form = AdminForm.open(client_for(doctor), change_url(charted))
    form.set_inline("history", 0, **{"medications-0-drug": "Tab Metformin 500mg BD x 30 days"})
    assert_saved(form.submit())
    (medication,) = charted.history.get().content["medications"]
    assert medication["drug"] == "Metformin" and medication["dose"] == "500mg"


@pytest.mark.parametrize("role", ["nurse", "doctor"])
def test_patient_add_page_saves(request, role, db):
    client = client_for(request.getfixturevalue(role))
    form = AdminForm.open(client, add_url(charted_model()))
    form.add_inline("notes", type="SOAP", subjective="First visit")
    response = form.submit(name="Ravi Kumar", gender="M", phone="98765 43299")
    assert_saved(response)
    patient = charted_model().objects.get(name="Ravi Kumar")
    assert patient.notes.get().content == {"subjective": "First visit"}


def charted_model():
    from patients.models import Patient

    return Patient


@pytest.fixture
def episode(db):
    episode = EpisodeFactory()
    TreatmentFactory(episode=episode, asa_grade=2)
    TumourFactory(episode=episode)
    return episode


@pytest.mark.parametrize("role", ["doctor", "superuser"])
def test_episode_page_with_treatment_and_tumour_saves(request, role, episode):
    client = client_for(request.getfixturevalue(role))
    form = AdminForm.open(client, change_url(episode))
    assert form["treatments-0-id"] == episode.treatments.get().pk
    assert form["tumours-0-id"] == episode.tumours.get().pk
    form["lead_clinician"] = "Ms Patel"
    form.set_inline("treatments", 0, opcs4_code="H33.4")
    form.add_inline("tumours", tumour_type="metastasis", site="liver")
    assert_saved(form.submit())
    episode.refresh_from_db()
    assert episode.lead_clinician == "Ms Patel"
    assert episode.treatments.get().opcs4_code == "H33.4"
    assert {t.site for t in episode.tumours.all()} == {"sigmoid colon", "liver"}
    assert {t.patient_id for t in episode.tumours.all()} == {episode.patient_id}


def test_episode_add_page_saves_with_a_treatment(doctor, db):
    patient = PatientFactory()
    form = AdminForm.open(client_for(doctor), add_url(Episode))
    form.add_inline("treatments", treatment_type="surgery")
    assert_saved(form.submit(patient=patient.pk, cancer_type="bowel"))
    episode = Episode.objects.get(patient=patient)
    assert episode.treatments.get().patient_id == patient.pk


@pytest.mark.parametrize("role", ["nurse", "doctor"])
def test_queue_enqueue_page_saves(request, role, db):
    patient = PatientFactory()
    form = AdminForm.open(client_for(request.getfixturevalue(role)), add_url(QueueEntry))
    response = form.submit(patient=patient.pk)
    assert response.status_code == 302
    assert QueueEntry.objects.get(patient=patient).token_number == 1


def test_a_form_missing_an_inline_id_is_refused_not_silently_duplicated(nurse, charted):
    form = AdminForm.open(client_for(nurse), change_url(charted))
    form["notes-0-id"] = None  # what the page did before inline ids were rendered
    response = form.submit()
    assert response.status_code == 200
    assert charted.notes.count() == 1
