"""Merging duplicate patient records and undoing it: what moves, who may, what stays true."""

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError

from oncology.models import Episode, Treatment, Tumour
from patients.merge import patient_merge, patient_unmerge
from patients.models import HistoryEntry, Note, Patient, PatientMerge
from queue_app.models import QueueEntry
from tests.clients import client_for
from tests.factories import (
    EpisodeFactory,
    HistoryEntryFactory,
    NoteFactory,
    PatientFactory,
    QueueEntryFactory,
    TreatmentFactory,
    TumourFactory,
)

API = "/api/v1"
CHILDREN = [Note, HistoryEntry, QueueEntry, Episode, Treatment, Tumour]


def holdings(patient) -> dict[str, set[str]]:
    return {
        model._meta.label: set(model.objects.filter(patient=patient).values_list("pk", flat=True))
        for model in CHILDREN
    }


@pytest.fixture
def pair(db):
    """The same woman registered twice, each record with its own notes, visits and episode."""
    kept = PatientFactory(name="Asha Rao", uhid="500001")
    duplicate = PatientFactory(name="Asha Rao", uhid="500002")
    for patient in (kept, duplicate):
        NoteFactory(patient=patient)
        HistoryEntryFactory(patient=patient)
        QueueEntryFactory(patient=patient)
        episode = EpisodeFactory(patient=patient, nhs_number="")
        TreatmentFactory(episode=episode)
        TumourFactory(episode=episode)
    return kept, duplicate


def test_merge_moves_every_record_to_the_kept_patient_and_unmerge_restores_exactly(pair):
    kept, duplicate = pair
    before = {"kept": holdings(kept), "duplicate": holdings(duplicate)}
    merge = patient_merge(kept=kept, merged=duplicate, by="dr_khan")
    assert all(not pks for pks in holdings(duplicate).values())
    assert holdings(kept) == {
        label: before["kept"][label] | before["duplicate"][label] for label in before["kept"]
    }
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == kept.pk
    moved_notes = merge.moved["patients.note"]["patient_id"]
    assert moved_notes == sorted(before["duplicate"]["patients.Note"])
    patient_unmerge(merged=duplicate, by="records_ali")
    assert {"kept": holdings(kept), "duplicate": holdings(duplicate)} == before
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None
    assert PatientMerge.objects.get().undone_by == "records_ali"


def test_a_record_added_to_the_kept_patient_after_the_merge_stays_there_on_unmerge(pair):
    kept, duplicate = pair
    patient_merge(kept=kept, merged=duplicate, by="dr_khan")
    later = NoteFactory(patient=kept)
    patient_unmerge(merged=duplicate, by="dr_khan")
    assert Note.objects.get(pk=later.pk).patient_id == kept.pk


def test_merging_a_record_into_itself_or_twice_is_refused(pair):
    kept, duplicate = pair
    with pytest.raises(ValidationError):
        patient_merge(kept=kept, merged=kept, by="x")
    patient_merge(kept=kept, merged=duplicate, by="x")
    with pytest.raises(ValidationError):
        patient_merge(kept=kept, merged=duplicate, by="x")
    with pytest.raises(ValidationError):
        patient_unmerge(merged=kept, by="x")


@pytest.mark.parametrize(
    ("role", "status"),
    [("nurse", 403), ("doctor", 200), ("records", 200), ("anonymous", 401), ("no_role", 403)],
)
def test_merge_and_unmerge_api_per_role(client_as, pair, role, status):
    kept, duplicate = pair
    client = client_as(role)
    response = client.post(
        f"{API}/patients/{duplicate.pk}/merge/", {"into": kept.pk}, format="json"
    )
    assert response.status_code == status, response.content
    if status != 200:
        assert not PatientMerge.objects.exists()
        return
    assert response.json()["id"] == kept.pk
    # The merged ID keeps leading to the record kept.
    assert client.get(f"{API}/patients/{duplicate.pk}/").json()["id"] == kept.pk
    assert LogEntry.objects.get_for_object(PatientMerge.objects.get()).exists()
    undone = client.post(f"{API}/patients/{duplicate.pk}/unmerge/")
    assert undone.status_code == 200
    assert undone.json()["merged_into"] is None
    assert client.get(f"{API}/patients/{duplicate.pk}/").json()["id"] == duplicate.pk


def test_merge_api_refuses_bad_requests_with_a_clear_400(client_as, pair):
    kept, duplicate = pair
    client = client_as("doctor")
    missing = client.post(f"{API}/patients/{duplicate.pk}/merge/", {}, format="json")
    assert missing.status_code == 400
    unknown = client.post(f"{API}/patients/{duplicate.pk}/merge/", {"into": "PAT_NOPE"})
    assert "PAT_NOPE" in unknown.json()["error"]["message"]
    itself = client.post(f"{API}/patients/{kept.pk}/merge/", {"into": kept.pk}, format="json")
    assert itself.status_code == 400
    assert client.post(f"{API}/patients/{kept.pk}/unmerge/").status_code == 400


def test_admin_merges_the_selected_duplicates_into_the_first_registered(doctor, pair):
    kept, duplicate = pair
    client = client_for(doctor)
    response = client.post(
        "/admin/patients/patient/",
        {"action": "merge_selected", "_selected_action": [kept.pk, duplicate.pk]},
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == kept.pk
    page = client.get(f"/admin/patients/patient/{quote(duplicate.pk)}/change/")
    assert page.status_code == 302
    assert page["Location"] == f"/admin/patients/patient/{quote(kept.pk)}/change/"
    client.post(
        "/admin/patients/patient/",
        {"action": "unmerge_selected", "_selected_action": [duplicate.pk]},
    )
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None and duplicate.notes.count() == 1


def test_a_nurse_is_not_offered_merge(nurse, pair):
    page = client_for(nurse).get("/admin/patients/patient/")
    assert "merge_selected" not in page.content.decode()
    assert Patient.objects.filter(merged_into__isnull=False).count() == 0
