"""`next` / `previous` links carry a keyset cursor: deep pages seek instead of skipping rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import Patient
from tests.backend_leg import LEG
from tests.factories import PatientFactory

API = "/api/v1/patients/"


@pytest.fixture
def patients(db):
    # Repeated names: the cursor must break ties on the ID, never skip or repeat a patient.
    for name in ["Asha Rao", "Asha Rao", "Ben Ng", "Asha Rao", "Chitra", "Ben Ng", "Dev"]:
        PatientFactory(name=name)
    return list(Patient.objects.order_by("name", "id").values_list("id", flat=True))


def walk(client, url, params=None):
    pages, body = [], client.get(url, params).json()
    pages.append([row["id"] for row in body["results"]])
    while body["next"]:
        assert "cursor=" in body["next"]
        body = client.get(body["next"]).json()
        pages.append([row["id"] for row in body["results"]])
    return pages, body


def test_following_next_links_visits_every_patient_once_in_order(client_as, patients):
    client = client_as("nurse")
    pages, last = walk(client, API, {"page_size": 2})
    assert [pid for page in pages for pid in page] == patients
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    # And back again through the previous links: the same pages.
    back, body = [], last
    while body["previous"]:
        body = client.get(body["previous"]).json()
        back.append([row["id"] for row in body["results"]])
    assert back == pages[-2::-1]


def test_cursor_on_a_descending_date_ordering(client_as, patients):
    expected = list(Patient.objects.order_by("-created_at", "id").values_list("id", flat=True))
    pages, _ = walk(client_as("doctor"), API, {"page_size": 3, "ordering": "-created_at"})
    assert [pid for page in pages for pid in page] == expected


def test_a_nullable_ordering_falls_back_to_the_offset(client_as, patients):
    Patient.objects.filter(pk__in=patients[:3]).update(uhid=None)
    expected = list(Patient.objects.order_by("uhid", "id").values_list("id", flat=True))
    client = client_as("nurse")
    body = client.get(API, {"page_size": 2, "ordering": "uhid"}).json()
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    assert seen == expected


def test_a_bad_cursor_is_a_clear_400(client_as, patients):
    client = client_as("nurse")
    for cursor in ("nonsense", "WyJhIiwgWzFdXQ=="):  # garbage; a cursor of the wrong length
        response = client.get(API, {"cursor": cursor, "page": 2})
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "cursor": ["This cursor is not valid for this list; start again from the first page."]
        }


@pytest.mark.skipif(LEG != "sqlite", reason="reads the SQL")
def test_a_cursor_page_seeks_without_offset(client_as, patients):
    client = client_as("nurse")
    following = client.get(API, {"page_size": 2}).json()["next"]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(following).status_code == 200
    listing = [q["sql"] for q in queries if 'FROM "patients_patient"' in q["sql"]]
    assert listing and all("OFFSET" not in sql for sql in listing), listing
