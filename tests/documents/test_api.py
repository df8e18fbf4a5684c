"""Documents over the API: upload (multipart), list, retrieve, review, checked download, roles."""

import pytest
from auditlog.models import LogEntry

from documents import services
from documents.models import Document
from patients.models import HistoryEntry
from tests.conftest import ROLES
from tests.documents.conftest import image_bytes, upload

API = "/api/v1"
READERS = {"nurse", "doctor", "records", "superuser"}
UPLOADERS = {"nurse", "doctor", "superuser"}


@pytest.fixture
def document(patient):
    batch = services.batch_upload(patient=patient, files=[upload("rx.jpg", image_bytes())])
    return batch.documents.get()


def _expected(role, allowed, ok=200):
    return 401 if role == "anonymous" else ok if role in allowed else 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url",
    [
        "/documents/",
        "/documents/{doc}/",
        "/document-batches/",
        "/document-batches/{batch}/",
        "/medical-timelines/",
        "/patients/{patient}/documents/",
        "/patients/{patient}/document-batches/",
        "/patients/{patient}/medical-timelines/",
    ],
)
def test_reads_per_role(client_as, document, role, url):
    url = url.format(doc=document.pk, batch=document.batch_id, patient=document.patient_id)
    response = client_as(role).get(API + url)
    assert response.status_code == _expected(role, READERS)
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_upload_per_role_makes_one_batch(client_as, patient, role):
    files = [upload(f"rx{i}.jpg", image_bytes()) for i in range(3)]
    response = client_as(role).post(
        f"{API}/patients/{patient.pk}/documents/", {"files": files}, format="multipart"
    )
    assert response.status_code == _expected(role, UPLOADERS, 201)
    if response.status_code == 201:
        body = response.json()
        assert body["id"].startswith("BATCH_") and len(body["documents"]) == 3
        assert {d["kind"] for d in body["documents"]} == {"image"}
        assert Document.objects.filter(batch_id=body["id"]).count() == 3
    else:
        assert not Document.objects.exists()


@pytest.mark.django_db
def test_renamed_non_image_gets_400_naming_the_file(client_as, patient):
    response = client_as("nurse").post(
        f"{API}/patients/{patient.pk}/documents/",
        {"files": [upload("scan.pdf", b"MZ\x90\x00 an executable")]},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "scan.pdf" in error["message"] and "files" in error["fields"]
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_too_large_gets_413_naming_the_file(client_as, patient, settings):
    settings.DOCUMENT_MAX_BYTES = 200
    response = client_as("doctor").post(
        f"{API}/patients/{patient.pk}/documents/",
        {"files": [upload("huge.jpg", image_bytes(size=(400, 400)))]},
        format="multipart",
    )
    assert response.status_code == 413
    assert "huge.jpg" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_upload_without_files_is_400(client_as, patient):
    response = client_as("nurse").post(
        f"{API}/patients/{patient.pk}/documents/", {}, format="multipart"
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_upload_for_unknown_patient_is_404(client_as, db):
    response = client_as("nurse").post(
        f"{API}/patients/PAT_NOPE/documents/",
        {"files": [upload("a.jpg", image_bytes())]},
        format="multipart",
    )
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["file", "thumbnail"])
def test_download_checks_role_audits_and_is_private(client_as, document, role, which):
    response = client_as(role).get(f"{API}/documents/{document.pk}/{which}/")
    assert response.status_code == _expected(role, READERS)
    accesses = LogEntry.objects.filter(object_pk=document.pk, action=LogEntry.Action.ACCESS)
    if response.status_code != 200:
        assert not accesses.exists()
        return
    body = b"".join(response.streaming_content)
    assert response["Cache-Control"] == "private, no-store"
    if which == "file":
        assert response["Content-Type"] == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
        assert response["Content-Disposition"] == 'inline; filename="rx.jpg"'
    else:
        assert response["Content-Type"] == "image/png" and body[:4] == b"\x89PNG"
    entry = accesses.get()
    assert entry.actor is not None


@pytest.mark.django_db
def test_download_as_attachment(client_as, document):
    response = client_as("records").get(f"{API}/documents/{document.pk}/file/?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="rx.jpg"'


REVIEW = {
    "visit_date": "2024-05-02",
    "doctor": "Dr Mehta",
    "medications": [
        {
            "name": "Metformin",
            "dosage": "500 mg",
            "frequency": "twice daily",
            "duration": "3 months",
        }
    ],
    "diagnoses": ["Type 2 diabetes"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_review_per_role(client_as, document, role):
    response = client_as(role).post(f"{API}/documents/{document.pk}/review/", REVIEW, format="json")
    assert response.status_code == _expected(role, {"nurse", "doctor", "superuser"}, 201)
    entries = HistoryEntry.objects.filter(document_id=document.pk)
    if response.status_code == 201:
        assert sorted(response.json()["history_entries"]) == sorted(e.pk for e in entries)
        assert {e.source for e in entries} == {"digitizer"} and entries.count() == 2
    else:
        assert not entries.exists()


@pytest.mark.django_db
def test_second_review_and_empty_review_are_400(client_as, document):
    client = client_as("doctor")
    empty = client.post(f"{API}/documents/{document.pk}/review/", {}, format="json")
    assert empty.status_code == 400 and "Nothing to confirm" in empty.json()["error"]["message"]
    assert (
        client.post(f"{API}/documents/{document.pk}/review/", REVIEW, format="json").status_code
        == 201
    )
    again = client.post(f"{API}/documents/{document.pk}/review/", REVIEW, format="json")
    assert again.status_code == 400 and "already been reviewed" in again.json()["error"]["message"]


@pytest.mark.django_db
def test_patient_medical_timeline_lists_what_was_confirmed(client_as, document):
    client_as("doctor").post(f"{API}/documents/{document.pk}/review/", REVIEW, format="json")
    body = (
        client_as("records").get(f"{API}/patients/{document.patient_id}/medical-timelines/").json()
    )
    (timeline,) = body["results"]
    assert timeline["kind"] == "clinic" and timeline["total_documents"] == 1
    assert timeline["current_medications"][0]["name"] == "Metformin"
    assert "Type 2 diabetes" in [e["description"] for e in timeline["timeline_events"]]
