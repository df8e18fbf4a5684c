"""Reads of patient data, queue moves and account changes all reach the audit log."""

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.urls import reverse

from queue_app.services import queue_enqueue, queue_transition
from tests.clients import client_for
from tests.factories import NoteFactory, PatientFactory

ACCESS = LogEntry.Action.ACCESS
pytestmark = pytest.mark.django_db


def reads(**filters):
    return LogEntry.objects.filter(action=ACCESS, **filters)


def test_an_api_read_of_a_patient_records_who_which_and_from_where(client_as, doctor):
    patient = PatientFactory()
    response = client_as("doctor").get(f"/api/v1/patients/{patient.pk}/", REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 200
    entry = reads(object_pk=patient.pk).get()
    assert (entry.actor, entry.remote_addr, entry.content_type.model) == (
        doctor,
        "192.0.2.44",
        "patient",
    )


def test_a_list_read_records_the_query(client_as, nurse):
    PatientFactory()
    client_as("nurse").get("/api/v1/patients/", {"search": "asha"})
    entry = reads(content_type__model="patient").get()
    assert (entry.object_pk, entry.actor) == ("", nurse)
    assert entry.object_repr == "/api/v1/patients/?search=asha"


def test_reading_a_patients_notes_or_timeline_is_a_read_of_that_patient(client_as):
    note = NoteFactory()
    client = client_as("doctor")
    client.get(f"/api/v1/patients/{note.patient_id}/notes/")
    client.get(f"/api/v1/patients/{note.patient_id}/timeline/")
    assert reads(object_pk=note.patient_id).count() == 2


def test_admin_pages_of_patient_data_are_logged(doctor):
    note = NoteFactory()
    client = client_for(doctor)
    client.get(reverse("admin:patients_patient_change", args=[quote(note.patient_id)]))
    client.get(reverse("admin:patients_note_changelist"))
    client.get(reverse("patient_timeline", args=[note.patient_id]))
    assert reads(object_pk=note.patient_id, actor=doctor).count() == 2
    assert reads(content_type__model="note", object_pk="").count() == 1


def test_an_id_that_looks_admin_quoted_is_logged_as_it_is(doctor):
    # "_5F" is how the admin quotes "_": its change page quotes the ID, the timeline does not.
    note = NoteFactory(patient=PatientFactory(pk="PAT_5FE40D7B"))
    client = client_for(doctor)
    client.get(reverse("admin:patients_patient_change", args=[quote(note.patient_id)]))
    client.get(reverse("patient_timeline", args=[note.patient_id]))
    assert reads(object_pk="PAT_5FE40D7B", actor=doctor).count() == 2


def test_failed_reads_and_anonymous_requests_are_not_reads(client_as):
    client_as("anonymous").get("/api/v1/patients/")
    client_as("nurse").get("/api/v1/patients/PAT_NOPE/")
    assert not reads().exists()


def test_queue_moves_are_in_the_audit_log_with_the_actor(nurse, client_as):
    entry = queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    client_as("nurse").post(f"/api/v1/queue/{entry.pk}/nurse-complete/")
    client_as("nurse").post(f"/api/v1/queue/{entry.pk}/undo/")
    moves = LogEntry.objects.filter(object_pk=entry.pk, action=LogEntry.Action.UPDATE)
    statuses = sorted(tuple(move.changes["status"]) for move in moves)
    assert statuses == [("nurse_completed", "waiting"), ("waiting", "nurse_completed")]
    assert {move.actor for move in moves} == {nurse}


def test_the_records_role_sees_queue_moves_in_the_audit_view(nurse, records):
    entry = queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    queue_transition(entry_id=entry.pk, action="nurse-complete", by=nurse)
    page = client_for(records).get(reverse("admin:auditlog_logentry_changelist"))
    assert page.status_code == 200
    assert "nurse_completed" in page.content.decode()


def test_deleting_a_user_keeps_their_name_on_their_entries_and_is_logged(client_as, superuser):
    author = get_user_model().objects.create_user(username="temp_nurse", password="x" * 16)

    client = client_as("superuser")
    created = client.post("/api/v1/patients/", {"name": "Asha Rao"}, format="json").json()
    LogEntry.objects.filter(object_pk=created["id"]).update(actor=author)
    author_pk = author.pk
    author.delete()
    kept = LogEntry.objects.filter(object_pk=created["id"], action=LogEntry.Action.CREATE).get()
    assert (kept.actor, kept.actor_email) == (None, "temp_nurse")
    deletion = LogEntry.objects.filter(
        content_type__model="user", object_pk=str(author_pk), action=LogEntry.Action.DELETE
    ).get()
    assert deletion.object_repr == "temp_nurse"
    page = client_for(superuser).get(reverse("admin:auditlog_logentry_changelist"))
    assert "temp_nurse (deleted)" in page.content.decode()


@pytest.mark.parametrize("path", ["/admin/queue_app/queueentry/board/table/"])
def test_background_refreshes_are_not_logged(nurse, path):
    client_for(nurse).get(path)
    assert not reads().exists()
