"""The admin as staff meet it: upload from the patient page, review beside the image, timeline."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.models import Document, DocumentBatch
from patients.models import HistoryEntry
from tests.clients import client_for
from tests.documents.conftest import image_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(patient):
    return services.batch_upload(
        patient=patient, files=[upload("rx.jpg", image_bytes())]
    ).documents.get()


@pytest.mark.parametrize("role", ["nurse", "doctor", "records", "no_role"])
def test_admin_pages_per_role(request, document, role):
    client = client_for(request.getfixturevalue(role))
    expected = 403 if role == "no_role" else 200
    for url in [
        reverse("admin:documents_document_changelist"),
        reverse("admin:documents_document_change", args=[quote(document.pk)]),
        reverse("admin:documents_documentbatch_changelist"),
        reverse("admin:documents_documentbatch_change", args=[quote(document.batch_id)]),
        reverse("admin:documents_medicaltimeline_changelist"),
        reverse("admin:documents_document_changelist") + f"?q={document.pk}",
    ]:
        assert client.get(url).status_code == expected, url


def test_changelist_shows_thumbnails_through_the_checked_view(nurse, document):
    page = client_for(nurse).get(reverse("admin:documents_document_changelist")).content.decode()
    assert f'src="{reverse("document-thumbnail", args=[document.pk])}"' in page


def test_patient_page_links_to_documents_and_upload(nurse, records, patient):
    url = reverse("admin:patients_patient_change", args=[quote(patient.pk)])
    upload_url = reverse("admin:documents_document_upload", args=[patient.pk])
    nurse_page = client_for(nurse).get(url).content.decode()
    assert upload_url in nurse_page and "Documents</a>" in nurse_page
    records_page = client_for(records).get(url).content.decode()
    assert upload_url not in records_page and "Documents</a>" in records_page


@pytest.mark.parametrize("role", ["nurse", "doctor", "records", "no_role"])
def test_nurse_uploads_three_photos_as_one_batch(request, patient, role):
    client = client_for(request.getfixturevalue(role))
    url = reverse("admin:documents_document_upload", args=[patient.pk])
    files = [upload(f"rx{i}.jpg", image_bytes()) for i in range(3)]
    response = client.post(url, {"files": files})
    if role in {"records", "no_role"}:
        assert response.status_code == 403 and not Document.objects.exists()
        return
    batch = DocumentBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:documents_documentbatch_change", args=[quote(batch.pk)]
    )
    assert (
        batch.documents.count() == 3 and batch.created_by == request.getfixturevalue(role).username
    )
    page = client.get(response["Location"]).content.decode()
    assert "3 document(s) uploaded" in page


def test_upload_page_refuses_a_renamed_file_naming_it(nurse, patient):
    client = client_for(nurse)
    url = reverse("admin:documents_document_upload", args=[patient.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"files": [upload("photo.jpg", b"%!PS-Adobe not a photo")]})
    assert response.status_code == 400 and "photo.jpg is not a JPEG" in response.content.decode()
    assert not Document.objects.exists()


def _review_post(**extra):
    data = {
        "visit_date": "2024-02-10",
        "doctor": "Dr Mehta",
        "diagnoses": "Hypertension\nType 2 diabetes",
        "notes": "",
        "medications-TOTAL_FORMS": "3",
        "medications-INITIAL_FORMS": "0",
        "medications-MIN_NUM_FORMS": "0",
        "medications-MAX_NUM_FORMS": "1000",
        "medications-0-name": "Amlodipine",
        "medications-0-dosage": "5 mg",
        "medications-0-frequency": "once daily",
        "medications-0-duration": "30 days",
        "labs-TOTAL_FORMS": "2",
        "labs-INITIAL_FORMS": "0",
        "labs-MIN_NUM_FORMS": "0",
        "labs-MAX_NUM_FORMS": "1000",
        "labs-0-test": "HbA1c",
        "labs-0-value": "7.1",
        "labs-0-unit": "%",
    }
    return {**data, **extra}


@pytest.mark.parametrize("role", ["nurse", "doctor", "records", "no_role"])
def test_review_page_confirms_into_linked_history(request, document, role):
    client = client_for(request.getfixturevalue(role))
    url = reverse("admin:documents_document_review", args=[document.pk])
    if role in {"records", "no_role"}:
        assert client.get(url).status_code == 403
        assert client.post(url, _review_post()).status_code == 403
        assert not HistoryEntry.objects.exists()
        return
    page = client.get(url).content.decode()
    assert reverse("document-file", args=[document.pk]) in page  # the image beside the form
    response = client.post(url, _review_post())
    assert response.status_code == 302
    entries = HistoryEntry.objects.filter(document_id=document.pk)
    assert sorted(entries.values_list("type", flat=True)) == [
        "diagnosis",
        "lab_result",
        "prescription",
    ]
    assert set(entries.values_list("source", flat=True)) == {"digitizer"}
    diagnosis = entries.get(type="diagnosis")
    assert diagnosis.content["diagnoses"] == ["Hypertension", "Type 2 diabetes"]
    assert timezone.localtime(diagnosis.date).date().isoformat() == "2024-02-10"
    change = client.get(reverse("admin:documents_document_change", args=[quote(document.pk)]))
    for entry in entries:  # the document links to its entries
        assert (
            reverse("admin:patients_historyentry_change", args=[quote(entry.pk)])
            in change.content.decode()
        )
    again = client.get(url).content.decode()
    assert "Reviewed by" in again


def test_review_with_a_bad_row_shows_the_error_and_writes_nothing(doctor, document):
    response = client_for(doctor).post(
        reverse("admin:documents_document_review", args=[document.pk]),
        _review_post(**{"medications-0-name": "", "visit_date": "not a date"}),
    )
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()
    assert not HistoryEntry.objects.exists()


def test_review_form_is_filled_from_what_the_extractor_read(doctor, document):
    Document.objects.filter(pk=document.pk).update(
        extracted_data={"medications": [{"name": "Atorvastatin", "dosage": "10 mg"}]}
    )
    page = client_for(doctor).get(reverse("admin:documents_document_review", args=[document.pk]))
    assert 'value="Atorvastatin"' in page.content.decode()


def test_patient_timeline_page_shows_documents_with_thumbnails_and_timeline(doctor, patient):
    batch = services.batch_upload(
        patient=patient, files=[upload("rx.jpg", image_bytes()), upload("lab.pdf", pdf_bytes())]
    )
    page = client_for(doctor).get(reverse("patient_timeline", args=[patient.pk])).content.decode()
    for doc in batch.documents.all():
        assert reverse("document-thumbnail", args=[doc.pk]) in page
    assert "Document uploaded: rx.jpg" in page and "Medical timeline (built by clinic)" in page


def test_thumbnail_view_refuses_a_role_without_documents(no_role, document):
    response = client_for(no_role).get(reverse("document-thumbnail", args=[document.pk]))
    assert response.status_code == 403


def test_timeline_links_open_the_document_page(doctor, document):
    client = client_for(doctor)
    page = client.get(reverse("patient_timeline", args=[document.patient_id])).content.decode()
    link = reverse("admin:documents_document_change", args=[quote(document.pk)])
    assert link in page and client.get(link).status_code == 200


def test_upload_page_answers_413_for_a_file_too_large(nurse, patient, settings):
    settings.DOCUMENT_MAX_BYTES = 100
    url = reverse("admin:documents_document_upload", args=[patient.pk])
    response = client_for(nurse).post(url, {"files": [upload("big.jpg", image_bytes())]})
    assert response.status_code == 413 and "big.jpg is" in response.content.decode()
    assert not Document.objects.exists()
