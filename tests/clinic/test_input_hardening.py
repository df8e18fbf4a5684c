"""Bad input is a clear 400/413 at every entrance, and a stored bad value never breaks a page."""

import json

import pytest
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.text import DATE_RANGE, MAX_JSON_DEPTH, check_text, scrub
from patients.models import HistoryEntry, Note, Patient
from tests.clients import client_for
from tests.factories import HistoryEntryFactory, NoteFactory, PatientFactory

API = "/api/v1"
LONE = "x\udfff"
pytestmark = pytest.mark.django_db


def error_of(response):
    return response.json()["error"]


def raw_post(client, url, text: str):
    # The surrogate travels as a JSON escape, exactly as a client's JSON library sends it.
    return client.post(url, data=text.encode(), content_type="application/json")


# -- the validator the import and others share -------------------------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "x\udfff", {"k": ["\ud800"]}, {"\x00": 1}])
def test_check_text_refuses_nul_and_lone_surrogates(bad):
    with pytest.raises(ValidationError):
        check_text(bad)


def test_check_text_passes_real_text_including_emoji_and_refuses_deep_nesting():
    check_text({"plan": ["Rest 😀", "नमस्ते"]})
    deep: list = []
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValidationError, match="nested"):
        check_text(deep)


def test_scrub_replaces_only_what_utf8_cannot_carry():
    assert scrub("ok 😀 x\udfff") == "ok 😀 x\ufffd"


# -- API input ----------------------------------------------------------------------------


def test_note_with_a_lone_surrogate_is_refused_and_nothing_is_saved(client_as):
    patient = PatientFactory()
    body = json.dumps({"patient": patient.pk, "type": "manual", "content": {"text": LONE}})
    response = raw_post(client_as("nurse"), f"{API}/notes/", body)
    assert response.status_code == 400
    assert "surrogate" in error_of(response)["message"]
    assert not Note.objects.exists()


def test_history_content_with_nul_is_refused(client_as):
    patient = PatientFactory()
    body = json.dumps({"patient": patient.pk, "type": "visit", "content": {"notes": "a\x00b"}})
    response = raw_post(client_as("doctor"), f"{API}/history/", body)
    assert response.status_code == 400
    assert not HistoryEntry.objects.exists()


def test_patient_name_with_nul_is_refused(client_as):
    response = client_as("nurse").post(f"{API}/patients/", {"name": "A\x00"}, format="json")
    assert response.status_code == 400
    assert not Patient.objects.exists()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 5000])
def test_json_nested_beyond_the_limit_is_a_400(client_as, depth):
    patient = PatientFactory()
    content = "[" * depth + "]" * depth
    body = f'{{"patient": "{patient.pk}", "type": "visit", "content": {{"x": {content}}}}}'
    response = raw_post(client_as("doctor"), f"{API}/history/", body)
    assert response.status_code == 400
    assert "nested" in error_of(response)["message"]
    assert not HistoryEntry.objects.exists()


def test_a_body_over_the_limit_is_a_413(client_as, settings):
    settings.API_MAX_JSON_BYTES = 1000
    body = json.dumps({"name": "A" * 2000})
    response = raw_post(client_as("nurse"), f"{API}/patients/", body)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_a_form_body_over_the_upload_limit_is_a_413(client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_as("nurse").post(
        f"{API}/patients/", "name=" + "A" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


def test_nul_in_a_query_parameter_is_a_400(client_as):
    response = client_as("nurse").get(f"{API}/patients/", {"search": "a\x00"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


# -- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, params",
    [
        ("/patients/", {"created_after": "0001-01-01"}),
        ("/notes/", {"created_after": "0001-01-01"}),
        ("/history/", {"date_after": "0001-01-01"}),
        ("/tumours/", {"diagnosis_after": "0001-01-01"}),
        ("/episodes/", {"referral_after": "0001-01-01"}),
        ("/treatments/", {"date_after": "0001-01-01"}),
    ],
)
def test_out_of_range_filter_dates_are_a_400_with_a_message(client_as, path, params):
    PatientFactory()
    response = client_as("superuser").get(f"{API}{path}", params)
    assert response.status_code == 400
    assert "between" in error_of(response)["message"]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
def test_history_date_out_of_range_is_a_400_and_nothing_is_saved(client_as, when):
    patient = PatientFactory()
    response = client_as("doctor").post(
        f"{API}/history/", {"patient": patient.pk, "type": "visit", "date": when}, format="json"
    )
    assert response.status_code == 400
    assert "between" in error_of(response)["message"]
    assert not HistoryEntry.objects.exists()


def test_cosd_period_ending_in_year_9999_is_a_400(client_as):
    response = client_as("records").get(
        f"{API}/cosd/exports/", {"from": "2024-10-01", "to": "9999-12-31"}
    )
    assert response.status_code == 400
    assert "between" in error_of(response)["message"]


def test_admin_date_hierarchy_year_one_is_a_400(doctor):
    HistoryEntryFactory()
    url = reverse("admin:patients_historyentry_changelist")
    response = client_for(doctor).get(url, {"date__year": "1"})
    assert response.status_code == 400
    assert b"between" in response.content


def test_a_huge_page_number_is_a_404(client_as):
    PatientFactory()
    response = client_as("nurse").get(f"{API}/patients/", {"page": str(10**20)})
    assert response.status_code == 404


# -- admin forms --------------------------------------------------------------------------


def note_form(patient, content: str) -> dict:
    return {"patient": patient.pk, "type": "manual", "content": content, "audio_file_url": ""}


@pytest.mark.parametrize(
    "content", ['{"text": "x\\udfff"}', '{"text": "a\\u0000"}', "[" * 900 + "]" * 900]
)
def test_admin_note_form_refuses_bad_json_text(nurse, content):
    patient = PatientFactory()
    response = client_for(nurse).post(
        reverse("admin:patients_note_add"), note_form(patient, content)
    )
    assert response.status_code == 400
    assert not Note.objects.exists()


def test_admin_note_form_keeps_emoji_written_as_a_surrogate_pair(nurse):
    patient = PatientFactory()
    form = {"patient": patient.pk, "type": "manual", "text": "😀"}
    response = client_for(nurse).post(reverse("admin:patients_note_add"), form)
    assert response.status_code == 302
    assert Note.objects.get().content == {"text": "😀"}


def test_admin_patient_name_with_nul_is_refused(nurse):
    response = client_for(nurse).post(reverse("admin:patients_patient_add"), {"name": "A\x00"})
    assert response.status_code == 400
    assert not Patient.objects.exists()


# -- a stored bad value (from before these checks, or an old import) ---------------------


STORED_BAD = pytest.mark.sqlite_only(
    reason="MongoDB cannot store a lone surrogate at all: BSON strings are UTF-8"
)


@pytest.fixture
def poisoned_note(db):
    return NoteFactory(content={"subjective": LONE}, created_by="nurse_rekha")


@STORED_BAD
def test_a_stored_lone_surrogate_leaves_every_api_read_working(client_as, poisoned_note):
    client = client_as("doctor")
    patient = poisoned_note.patient_id
    for url in [
        f"{API}/notes/",
        f"{API}/notes/{poisoned_note.pk}/",
        f"{API}/patients/{patient}/notes/",
        f"{API}/patients/{patient}/timeline/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    body = client.get(f"{API}/notes/{poisoned_note.pk}/").json()
    assert body["content"]["subjective"] == "x\ufffd"


@STORED_BAD
def test_a_stored_lone_surrogate_leaves_the_admin_pages_working(doctor, poisoned_note):
    client = client_for(doctor)
    patient = poisoned_note.patient_id
    for url in [
        reverse("admin:patients_patient_change", args=[quote(patient)]),
        reverse("admin:patients_note_change", args=[quote(poisoned_note.pk)]),
        reverse("admin:patients_note_changelist"),
        reverse("patient_timeline", args=[patient]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_admin_history_form_with_a_date_in_year_one_is_refused_and_saves_nothing(doctor):
    patient = PatientFactory()
    form = {
        "patient": patient.pk,
        "type": "visit",
        "date_0": "0001-01-01",
        "date_1": "00:00:00",
        "notes": "seen",
        "source": "manual",
        "document_id": "",
    }
    response = client_for(doctor).post(reverse("admin:patients_historyentry_add"), form)
    assert response.status_code == 200  # the form again, with the message beside the date
    assert response.context["adminform"].form.errors["date"] == [DATE_RANGE]
    assert not HistoryEntry.objects.exists()
