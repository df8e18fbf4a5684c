"""Patients, notes and history over the API: every endpoint for every role, shapes, rules."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from patients.models import Note, Patient
from tests.conftest import ROLES
from tests.factories import HistoryEntryFactory, NoteFactory, PatientFactory, QueueEntryFactory

API = "/api/v1"
STAFF_READ = {"nurse", "doctor", "records", "superuser"}
# resource -> (roles that may read it, roles that may write it)
ACCESS = {
    "patient": (STAFF_READ, {"nurse", "doctor", "superuser"}),
    "note": (STAFF_READ, {"nurse", "doctor", "superuser"}),
    "history": (STAFF_READ, {"doctor", "superuser"}),
    "queue": (STAFF_READ, set()),
}
SOAP = {"subjective": "Cough", "objective": "T 38.2", "assessment": "URTI", "plan": "Fluids"}

# (method, url, payload, resource); {patient}, {note}, {history} are filled from the world.
ENDPOINTS = [
    ("GET", "/patients/", None, "patient"),
    ("GET", "/patients/{patient}/", None, "patient"),
    ("POST", "/patients/", {"name": "Asha Rao", "age": 34, "confirm_new": True}, "patient"),
    ("PUT", "/patients/{patient}/", {"name": "Asha Rao", "age": 35, "gender": "F"}, "patient"),
    ("PATCH", "/patients/{patient}/", {"phone": "98765 43210"}, "patient"),
    ("GET", "/notes/", None, "note"),
    ("GET", "/notes/{note}/", None, "note"),
    ("POST", "/notes/", {"patient": "{patient}", "type": "SOAP", "content": SOAP}, "note"),
    (
        "PUT",
        "/notes/{note}/",
        {"patient": "{patient}", "type": "manual", "content": "ok", "reason": "typo"},
        "note",
    ),
    ("PATCH", "/notes/{note}/", {"content": SOAP, "reason": "re-examined"}, "note"),
    ("GET", "/history/", None, "history"),
    ("GET", "/history/{history}/", None, "history"),
    ("POST", "/history/", {"patient": "{patient}", "type": "diagnosis"}, "history"),
    ("PUT", "/history/{history}/", {"patient": "{patient}", "type": "visit"}, "history"),
    ("PATCH", "/history/{history}/", {"document_id": "DOC_123"}, "history"),
    ("GET", "/patients/{patient}/notes/", None, "note"),
    ("GET", "/patients/{patient}/history/", None, "history"),
    ("GET", "/patients/{patient}/queue-entries/", None, "queue"),
]


def expected_status(role: str, method: str, resource: str) -> int:
    if role == "anonymous":
        return 401
    readers, writers = ACCESS[resource]
    if role not in (readers if method == "GET" else writers):
        return 403
    return 201 if method == "POST" else 200


def fill(value, world):
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {key: fill(item, world) for key, item in value.items()}
    return value


@pytest.fixture
def world(db):
    patient = PatientFactory()
    return SimpleNamespace(
        patient=patient,
        note=NoteFactory(patient=patient),
        history=HistoryEntryFactory(patient=patient),
        queue_entry=QueueEntryFactory(patient=patient),
    )


def ids_of(world):
    return {"patient": world.patient.pk, "note": world.note.pk, "history": world.history.pk}


def assert_error_shape(response, code=None):
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def call(client, method, url, payload, world):
    send = getattr(client, method.lower())
    return send(API + fill(url, ids_of(world)), fill(payload, ids_of(world)), format="json")


@pytest.mark.parametrize(
    ("method", "url", "payload", "resource"), ENDPOINTS, ids=[f"{m} {u}" for m, u, *_ in ENDPOINTS]
)
def test_each_role_gets_the_status_its_permissions_allow(
    client_as, world, method, url, payload, resource
):
    # All roles in one test: on the MongoDB leg every test pays for a database flush.
    statuses = {}
    for role in ROLES:
        response = call(client_as(role), method, url, payload, world)
        statuses[role] = response.status_code
        if response.status_code >= 400:
            assert_error_shape(response)
        elif method == "GET" and not url.endswith("}/"):  # a list
            assert isinstance(response.json()["results"], list)
    assert statuses == {role: expected_status(role, method, resource) for role in ROLES}


def test_delete_is_not_offered(client_as, world):
    response = client_as("superuser").delete(f"{API}/patients/{world.patient.pk}/")
    assert response.status_code == 405
    assert_error_shape(response)
    assert Patient.objects.filter(pk=world.patient.pk).exists()


def test_patient_body_has_exactly_the_documented_fields(client_as, world):
    body = client_as("nurse").get(f"{API}/patients/{world.patient.pk}/").json()
    assert set(body) == {
        "id",
        "uhid",
        "name",
        "age",
        "date_of_birth",
        "date_of_birth_estimated",
        "gender",
        "phone",
        "nhs_number",
        "merged_into",
        "created_at",
        "updated_at",
    }
    assert body["id"] == world.patient.pk


def test_created_patient_gets_a_new_domain_id_and_normalised_fields(client_as, db):
    response = client_as("nurse").post(
        f"{API}/patients/",
        {"name": "  Meera Iyer ", "uhid": 123456789, "gender": "female", "age": 0, "id": "X"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("PAT_") and len(body["id"]) == 12
    assert (body["name"], body["uhid"], body["gender"], body["age"]) == (
        "Meera Iyer",
        "123456789",
        "F",
        0,
    )
    assert Patient.objects.get(pk=body["id"]).name == "Meera Iyer"


def test_blank_uhid_is_stored_as_unknown_so_two_patients_can_lack_one(client_as, db):
    client = client_as("nurse")
    for name in ("First", "Second"):
        assert client.post(f"{API}/patients/", {"name": name, "uhid": ""}).status_code == 201
    assert Patient.objects.filter(uhid__isnull=True).count() == 2


AGE = "Age must be a whole number between 0 and 130."
BAD_PATIENTS = [  # (payload, field, message); tables in one test keep the MongoDB leg quick
    ({"age": 40}, "name", "Enter the patient's name."),
    ({"name": "   "}, "name", "Enter the patient's name."),
    ({"name": "A", "age": 131}, "age", AGE),
    ({"name": "A", "age": -1}, "age", AGE),
    ({"name": "A", "age": "old"}, "age", AGE),
    ({"name": "A", "gender": "x"}, "gender", "Gender must be M (male), F (female) or O (other)."),
    (
        {"name": "A", "uhid": "12 a4"},
        "uhid",
        "A UHID is the hospital number: letters, digits, '-' and '/' "
        "(for example IW000123 or MH/2024/0012).",
    ),
    (
        {"name": "A", "phone": "call me"},
        "phone",
        "Enter a phone number with its digits, for example 98765 43210 or +44 20 7946 0958 "
        "(letters are not part of a phone number).",
    ),
]


def test_bad_patient_input_is_a_400_a_nurse_can_read(client_as, db):
    client, seen = client_as("nurse"), []
    for payload, field, _message in BAD_PATIENTS:
        response = client.post(f"{API}/patients/", payload, format="json")
        error = assert_error_shape(response, "invalid")
        seen.append((payload, response.status_code, field, error["fields"].get(field)))
        assert error["message"] == f"{field}: {error['fields'][field][0]}"
    assert seen == [(payload, 400, field, [message]) for payload, field, message in BAD_PATIENTS]
    assert not Patient.objects.exists()


def test_duplicate_uhid_is_a_409_naming_its_holder_not_a_crash(client_as, world):
    response = client_as("nurse").post(
        f"{API}/patients/", {"name": "Twin", "uhid": world.patient.uhid}, format="json"
    )
    assert response.status_code == 409
    assert assert_error_shape(response, "likely_duplicate")
    assert [c["id"] for c in response.json()["candidates"]] == [world.patient.pk]


def test_an_edit_taking_another_patient_s_uhid_is_a_400(client_as, world):
    other = PatientFactory()
    response = client_as("nurse").patch(
        f"{API}/patients/{other.pk}/", {"uhid": world.patient.uhid}, format="json"
    )
    assert response.status_code == 400
    assert assert_error_shape(response)["fields"]["uhid"] == [
        "Another patient already has this UHID."
    ]


def test_patient_keeps_its_own_uhid_on_update(client_as, world):
    response = client_as("nurse").put(
        f"{API}/patients/{world.patient.pk}/",
        {"name": "Renamed", "uhid": world.patient.uhid},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"


def test_update_stamps_updated_at(client_as, world, time_machine):
    time_machine.move_to("2030-01-02 10:00:00+00:00", tick=False)
    response = client_as("doctor").patch(
        f"{API}/patients/{world.patient.pk}/", {"age": 50}, format="json"
    )
    assert response.json()["updated_at"].startswith("2030-01-02")
    assert Patient.objects.get(pk=world.patient.pk).age == 50


def test_unknown_patient_is_a_404_in_the_error_shape(client_as, db):
    response = client_as("nurse").get(f"{API}/patients/PAT_NOPE0000/")
    assert response.status_code == 404
    assert_error_shape(response, "not_found")


def test_note_is_written_by_the_requesting_user(client_as, world, nurse):
    response = client_as("nurse").post(
        f"{API}/notes/", {"patient": world.patient.pk, "content": SOAP}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("NOTE_")
    assert (body["type"], body["created_by"], body["patient"]) == (
        "SOAP",
        nurse.username,
        world.patient.pk,
    )


def test_note_for_an_unknown_patient_is_refused(client_as, db):
    response = client_as("nurse").post(
        f"{API}/notes/", {"patient": "PAT_GHOST000", "content": SOAP}, format="json"
    )
    assert response.status_code == 400
    assert assert_error_shape(response)["fields"]["patient"] == [
        "No patient has the ID PAT_GHOST000."
    ]


def test_bad_note_input_names_the_field(client_as, world):
    cases = [
        ({"type": "SOAP", "content": "free text"}, "content"),
        ({"type": "SOAP", "content": {"plan": ["a", "list"]}}, "content"),
        ({"type": "manual", "content": 42}, "content"),
        ({"type": "letter", "content": "x"}, "type"),
        ({"content": SOAP, "patient": None}, "patient"),
    ]
    client, seen = client_as("nurse"), []
    for payload, _field in cases:
        response = client.post(
            f"{API}/notes/", {"patient": world.patient.pk, **payload}, format="json"
        )
        seen.append((response.status_code, list(assert_error_shape(response)["fields"])))
    assert seen == [(400, [field]) for _payload, field in cases]


def test_free_text_is_allowed_for_a_manual_note(client_as, world):
    response = client_as("nurse").post(
        f"{API}/notes/",
        {"patient": world.patient.pk, "type": "manual", "content": "Called back"},
        format="json",
    )
    assert response.status_code == 201
    assert Note.objects.get(pk=response.json()["id"]).content == "Called back"


def test_a_note_cannot_be_moved_to_another_patient(client_as, world):
    other = PatientFactory()
    response = client_as("nurse").patch(
        f"{API}/notes/{world.note.pk}/", {"patient": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "patient" in assert_error_shape(response)["fields"]


def test_history_content_must_be_an_object(client_as, world):
    response = client_as("doctor").post(
        f"{API}/history/",
        {"patient": world.patient.pk, "type": "prescription", "content": ["Paracetamol"]},
        format="json",
    )
    assert response.status_code == 400
    assert "content" in assert_error_shape(response)["fields"]


def test_history_create_returns_the_entry(client_as, world):
    response = client_as("doctor").post(
        f"{API}/history/",
        {
            "patient": world.patient.pk,
            "type": "lab_result",
            "date": "2024-11-08T09:12:44Z",
            "content": {"notes": "Hb 12.1"},
            "source": "manual",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("HIST_")
    assert body["content"] == {"notes": "Hb 12.1"}


def test_search_matches_name_uhid_and_phone_however_typed(client_as, db):
    people = {
        "meera": PatientFactory(name="Meera Iyer", uhid="100000001", phone="+919876543210"),
        "ravi": PatientFactory(name="Ravi Kumar", uhid="555000111", phone="098765-43210"),
        "sita": PatientFactory(name="Sita Das", uhid="200000002", phone="0223334444"),
    }
    expected = {
        "meera": {"meera"},
        "IYER": {"meera"},
        "555000111": {"ravi"},
        "9876543210": {"meera", "ravi"},
        "98765 43210": {"meera", "ravi"},
        "98765": {"meera", "ravi"},  # the start of the number; not its last digits
        "+91 98765 43210": {"meera", "ravi"},
        "nobody": set(),
    }
    client, names = client_as("nurse"), {patient.pk: key for key, patient in people.items()}
    found = {
        term: {
            names[row["id"]]
            for row in client.get(f"{API}/patients/", {"search": term}).json()["results"]
        }
        for term in expected
    }
    assert found == expected


def test_search_by_patient_id(client_as, world):
    response = client_as("nurse").get(f"{API}/patients/", {"search": world.patient.pk})
    assert [row["id"] for row in response.json()["results"]] == [world.patient.pk]


def test_patients_are_ordered_by_a_whitelisted_field(client_as, db):
    for age, name in ((30, "B"), (70, "A"), (50, "C")):
        PatientFactory(age=age, name=name)
    client = client_as("nurse")
    by_name = client.get(f"{API}/patients/").json()["results"]
    by_age = client.get(f"{API}/patients/", {"ordering": "-age"}).json()["results"]
    assert [row["name"] for row in by_name] == ["A", "B", "C"]
    assert [row["age"] for row in by_age] == [70, 50, 30]


def test_ordering_by_a_field_off_the_whitelist_is_a_400(client_as, db):
    response = client_as("nurse").get(f"{API}/patients/", {"ordering": "phone"})
    assert response.status_code == 400
    assert "ordering" in assert_error_shape(response, "invalid")["fields"]


def test_notes_filter_by_patient_type_and_day(client_as, world):
    other = PatientFactory()
    old = NoteFactory(
        patient=world.patient,
        type=Note.Type.MANUAL,
        content="x",
        created_at=timezone.now() - timezone.timedelta(days=10),
    )
    NoteFactory(patient=other)
    client = client_as("nurse")

    def listed(**params):
        return {row["id"] for row in client.get(f"{API}/notes/", params).json()["results"]}

    assert listed(patient=world.patient.pk) == {world.note.pk, old.pk}
    assert listed(patient=world.patient.pk, type="manual") == {old.pk}
    day = timezone.localdate(old.created_at).isoformat()
    assert listed(created_after=day, created_before=day) == {old.pk}


def test_history_filters_by_date_range_and_type(client_as, world):
    HistoryEntryFactory(
        patient=world.patient, type="visit", date=timezone.now() - timezone.timedelta(days=400)
    )
    client = client_as("doctor")
    since = (timezone.localdate() - timezone.timedelta(days=30)).isoformat()
    recent = client.get(f"{API}/history/", {"date_after": since}).json()["results"]
    visits = client.get(f"{API}/history/", {"type": "visit"}).json()["results"]
    assert [row["id"] for row in recent] == [world.history.pk]
    assert [row["type"] for row in visits] == ["visit"]


def test_bad_filter_values_are_a_400(client_as, db):
    client = client_as("nurse")
    for params, field in [
        ({"type": "letter"}, "type"),
        ({"created_after": "yesterday"}, "created"),
    ]:
        response = client.get(f"{API}/notes/", params)
        assert response.status_code == 400
        assert list(assert_error_shape(response, "invalid")["fields"]) == [field]


def test_nested_routes_list_only_that_patients_records(client_as, world):
    other = PatientFactory()
    NoteFactory(patient=other)
    HistoryEntryFactory(patient=other)
    QueueEntryFactory(patient=other)
    client = client_as("doctor")
    base = f"{API}/patients/{world.patient.pk}"
    notes = client.get(f"{base}/notes/").json()["results"]
    history = client.get(f"{base}/history/").json()["results"]
    visits = client.get(f"{base}/queue-entries/").json()["results"]
    assert [row["id"] for row in notes] == [world.note.pk]
    assert [row["id"] for row in history] == [world.history.pk]
    assert [row["id"] for row in visits] == [world.queue_entry.pk]
    assert set(visits[0]) == {
        "id",
        "token_number",
        "day",
        "status",
        "priority",
        "added_at",
        "completed_at",
    }


def test_nested_route_of_an_unknown_patient_is_a_404(client_as, db):
    client = client_as("doctor")
    for child in ("notes", "history", "queue-entries"):
        response = client.get(f"{API}/patients/PAT_NOPE0000/{child}/")
        assert response.status_code == 404
        assert "PAT_NOPE0000" in assert_error_shape(response, "not_found")["message"]


def test_nested_route_is_paginated(client_as, world):
    NoteFactory.create_batch(2, patient=world.patient)
    client = client_as("nurse")
    first = client.get(f"{API}/patients/{world.patient.pk}/notes/", {"page_size": 2}).json()
    last = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(last["results"]) == 1
    assert last["next"] is None


def test_a_uhid_taken_between_check_and_insert_is_a_409_not_a_500(client_as, world, monkeypatch):
    # Two desks registering the same UHID at once both pass the uniqueness check; the
    # database's unique index stops the second insert.
    # (A new registration is checked for duplicates, which `confirm_new` skips.)
    response = client_as("nurse").post(
        f"{API}/patients/",
        {"name": "Twin", "uhid": world.patient.uhid, "confirm_new": True},
        format="json",
    )
    assert response.status_code == 409
    assert_error_shape(response, "conflict")
    assert Patient.objects.filter(uhid=world.patient.uhid).count() == 1
