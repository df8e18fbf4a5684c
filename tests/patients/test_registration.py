"""Registration staff can trust: phones in E.164, date of birth or age, duplicate warnings,
and search by any word, part of an ID, or a phone typed any way."""

from datetime import date

import pytest
import time_machine
from django.contrib.admin.utils import quote
from django.urls import reverse

from patients import phones, selectors, services
from patients.models import Patient
from tests.admin_forms import AdminForm, assert_saved, form_errors
from tests.clients import client_for
from tests.factories import PatientFactory

API = "/api/v1"
ADD = "/admin/patients/patient/add/"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("98765 43210", "+919876543210"),
        ("098765-43210", "+919876543210"),
        ("+91 98765 43210", "+919876543210"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_phone_is_stored_in_e164_however_typed(db, typed, stored):
    assert services.patient_create(name="Asha Rao", phone=typed).phone == stored


@pytest.mark.parametrize("typed", ["12ab", "abcdef", "12345"])
def test_a_phone_that_is_not_a_number_is_refused_with_a_clear_message(client_as, db, typed):
    response = client_as("nurse").post(
        f"{API}/patients/", {"name": "Asha Rao", "phone": typed}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["phone"] == [phones.INVALID]
    assert not Patient.objects.exists()


def test_phone_is_shown_nationally_in_the_admin(nurse):
    PatientFactory(phone="+919876543210")
    page = client_for(nurse).get("/admin/patients/patient/").content.decode()
    assert "098765 43210" in page


@time_machine.travel("2026-06-15 09:00 +0530", tick=False)
def test_an_age_is_stored_as_an_estimated_date_of_birth_and_age_is_computed(client_as, db):
    client = client_as("nurse")
    body = client.post(f"{API}/patients/", {"name": "A K", "age": 40}, format="json").json()
    assert (body["date_of_birth"], body["date_of_birth_estimated"], body["age"]) == (
        "1986-06-15",
        True,
        40,
    )
    body = client.post(
        f"{API}/patients/", {"name": "B K", "date_of_birth": "1990-06-16"}, format="json"
    ).json()
    assert (body["date_of_birth_estimated"], body["age"]) == (False, 35)
    with time_machine.travel("2026-06-16 09:00 +0530", tick=False):
        # A token lasts API_TOKEN_TTL_HOURS: a day later the nurse signs in again.
        assert client_as("nurse").get(f"{API}/patients/{body['id']}/").json()["age"] == 36


def test_a_date_of_birth_in_the_future_is_refused(client_as, db):
    response = client_as("nurse").post(
        f"{API}/patients/", {"name": "A", "date_of_birth": "2999-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "date_of_birth" in response.json()["error"]["fields"]


def test_admin_registers_with_a_date_of_birth_or_an_age(nurse):
    client = client_for(nurse)
    form = AdminForm.open(client, ADD)
    assert_saved(form.submit(name="Asha Rao", date_of_birth="1990-02-01", phone="98765 43210"))
    asha = Patient.objects.get(name="Asha Rao")
    assert (asha.date_of_birth, asha.date_of_birth_estimated) == (date(1990, 2, 1), False)
    assert asha.phone == "+919876543210"
    form = AdminForm.open(client, ADD)
    assert_saved(form.submit(name="Ravi Kumar", age="50"))
    ravi = Patient.objects.get(name="Ravi Kumar")
    assert ravi.date_of_birth_estimated and ravi.current_age == 50


def test_admin_refuses_a_phone_with_letters(nurse):
    response = AdminForm.open(client_for(nurse), ADD).submit(name="Asha Rao", phone="12ab")
    assert response.status_code == 200
    assert form_errors(response)[0]["phone"] == [phones.INVALID]


@pytest.fixture
def asha(db):
    return PatientFactory(
        name="Asha Rao",
        uhid="MH/2024/0012",
        phone="+919876543210",
        nhs_number="9434765919",
        date_of_birth=date(1990, 5, 1),
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Someone Else", "phone": "098765 43210"},
        {"name": "Someone Else", "uhid": "MH/2024/0012"},
        {"name": "Someone Else", "nhs_number": "9434765919"},
        {"name": "Rao Asha", "date_of_birth": "1991-01-20"},
        {"name": "Aasha Rao", "date_of_birth": "1989-11-02"},
    ],
)
def test_api_answers_409_with_the_likely_duplicates(client_as, asha, payload):
    client = client_as("nurse")
    response = client.post(f"{API}/patients/", payload, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["error"]["code"] == "likely_duplicate"
    assert [c["id"] for c in body["candidates"]] == [asha.pk]
    assert Patient.objects.count() == 1
    if "uhid" in payload or "nhs_number" in payload:
        return  # those are unique: confirming cannot register a second holder
    confirmed = client.post(f"{API}/patients/", {**payload, "confirm_new": True}, format="json")
    assert confirmed.status_code == 201
    assert Patient.objects.count() == 2


def test_a_namesake_born_years_apart_is_not_a_duplicate(client_as, asha):
    response = client_as("nurse").post(
        f"{API}/patients/", {"name": "Asha Rao", "date_of_birth": "1970-05-01"}, format="json"
    )
    assert response.status_code == 201


def test_admin_lists_the_likely_duplicates_with_links_and_asks_to_confirm(nurse, asha):
    client = client_for(nurse)
    form = AdminForm.open(client, ADD)
    response = form.submit(name="Asha Rao", age="36", phone="9876543210")
    assert response.status_code == 200
    page = response.content.decode()
    link = reverse("admin:patients_patient_change", args=[quote(asha.pk)])
    assert f'<a href="{link}" target="_blank">' in page
    assert "UHID MH/2024/0012" in page
    assert Patient.objects.count() == 1
    again = AdminForm.parse(client, ADD, page)
    assert_saved(again.submit(confirm_new="on"))
    assert Patient.objects.count() == 2


def found(term: str) -> set[str]:
    return set(selectors.patient_search(Patient.objects.all(), term).values_list("pk", flat=True))


def test_search_finds_any_word_part_of_an_id_and_a_phone_typed_any_way(asha):
    other = PatientFactory(name="Ravi Kumar", uhid="IW000456", phone="+919812345678")
    assert found("rao") == found("RAO") == found("as") == {asha.pk}
    assert found("kumar") == found("ravi ku") == {other.pk}
    assert found("2024/0012") == found("0012") == found("mh2024") == {asha.pk}
    assert found("000456") == found("iw") == {other.pk}
    assert found("4765919") == found("943 476 5919") == {asha.pk}
    for typed in ["98765 43210", "098765-43210", "+919876543210", "9876543210", "+91 98765-43210"]:
        assert found(typed) == {asha.pk}, typed
    assert found(asha.pk) == found(asha.pk.lower()) == {asha.pk}
    assert found("nobody") == set()


def test_search_follows_edits_made_through_the_services(asha):
    services.patient_update(patient=asha, name="Asha Menon", phone="9812345679")
    assert found("menon") == found("9812345679") == {asha.pk}
    assert found("rao") == found("9876543210") == set()


def test_search_finds_a_common_name_among_many(db, monkeypatch):
    monkeypatch.setattr(selectors, "MANY", 3)  # as if thousands were called Asha
    ashas = {
        PatientFactory(name=f"Asha {surname}").pk: surname
        for surname in ["Bose", "Das", "Iyer", "Nair", "Rao"]
    }
    PatientFactory(name="Ravi Kumar")
    assert len(found("asha")) == 3 and found("asha") <= ashas.keys()  # the word's first 3 rows
    for pk, surname in ashas.items():  # a second word, or the whole name, finds each one
        assert found(f"asha {surname}") == {pk}


def test_picker_shows_name_age_sex_uhid_and_phone(nurse, asha):
    response = client_for(nurse).get(
        reverse("admin:autocomplete"),
        {"app_label": "patients", "model_name": "note", "field_name": "patient", "term": "rao"},
    )
    (result,) = response.json()["results"]
    assert result["id"] == asha.pk
    age = asha.current_age
    assert result["text"] == f"Asha Rao · {age}F · UHID MH/2024/0012 · 098765 43210"


@pytest.mark.parametrize(
    "typed", ["+919876543210", "+442079460958", "+12025550123", "+390612345678", "+6598765432"]
)
def test_search_forms_split_the_country_code_as_phonenumbers_reads_it(typed):
    import phonenumbers

    from patients.phones import search_forms

    number = phonenumbers.parse(typed)
    e164, national = search_forms(typed)
    assert e164 == typed
    # Italy keeps its leading zero: the digits as staff dial them.
    leading = "0" if number.italian_leading_zero else ""
    assert national == leading + str(number.national_number)
    assert search_forms("098765 43210") == ("+919876543210", "9876543210")
    assert search_forms("12ab") is None and search_forms("") is None
