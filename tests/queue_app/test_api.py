import pytest

from queue_app.models import QueueEntry
from queue_app.services import queue_enqueue, queue_transition
from tests.factories import PatientFactory

URL = "/api/v1/queue/"

# role -> expected status for: list, detail, events, board, metrics, enqueue,
# nurse steps (start), doctor steps (call-next)
EXPECTED = {
    "anonymous": (401, 401, 401, 401, 401, 401, 401, 401),
    "no_role": (403, 403, 403, 403, 403, 403, 403, 403),
    "records": (200, 200, 200, 200, 200, 403, 403, 403),
    "nurse": (200, 200, 200, 200, 200, 201, 200, 403),
    "doctor": (200, 200, 200, 200, 200, 201, 200, 200),
    "superuser": (200, 200, 200, 200, 200, 201, 200, 200),
}


def ready_entry(by, **kwargs):
    entry = queue_enqueue(patient_id=PatientFactory().pk, by=by, **kwargs)
    for action in ("nurse-complete", "ready"):
        queue_transition(entry_id=entry.pk, action=action, by=by)
    return entry


@pytest.mark.parametrize("role", EXPECTED)
def test_each_role_gets_the_documented_status_on_every_endpoint(role, client_as, superuser):
    entry = queue_enqueue(patient_id=PatientFactory().pk, by=superuser)
    ready_entry(superuser)
    client = client_as(role)
    got = (
        client.get(URL).status_code,
        client.get(f"{URL}{entry.pk}/").status_code,
        client.get(f"{URL}{entry.pk}/events/").status_code,
        client.get(f"{URL}board/").status_code,
        client.get(f"{URL}metrics/").status_code,
        client.post(URL, {"patient": PatientFactory().pk}, format="json").status_code,
        client.post(f"{URL}{entry.pk}/start/").status_code,
        client.post(f"{URL}call-next", {"room": "3"}, format="json").status_code,
    )
    assert got == EXPECTED[role]


def test_enqueue_returns_the_entry_with_its_token(client_as, patient):
    response = client_as("nurse").post(URL, {"patient": patient.pk, "priority": "urgent"})
    assert response.status_code == 201
    body = response.json()
    assert (body["token_number"], body["status"], body["priority"]) == (1, "waiting", "urgent")
    assert body["patient"] == patient.pk and body["patient_name"] == "Asha Rao"


def test_enqueue_twice_is_a_409_with_a_clear_message(client_as, patient):
    client = client_as("nurse")
    client.post(URL, {"patient": patient.pk})
    response = client.post(URL, {"patient": patient.pk})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == "Asha Rao is already in today's queue as token 1."


def test_enqueue_validates_its_input(client_as, db):
    client = client_as("nurse")
    response = client.post(URL, {"patient": "PAT_NOBODY00", "priority": "vip"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"priority"}
    response = client.post(URL, {"patient": "PAT_NOBODY00"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {"patient": ["No registered patient PAT_NOBODY00."]}


def test_workflow_through_the_api(client_as, patient):
    nurse, doctor = client_as("nurse"), client_as("doctor")
    entry_id = nurse.post(URL, {"patient": patient.pk}).json()["id"]
    for step in ("start", "nurse-complete", "ready"):
        assert nurse.post(f"{URL}{entry_id}/{step}/").status_code == 200
    called = doctor.post(f"{URL}call-next/", {"room": "4"}).json()
    assert (called["id"], called["status"], called["room"]) == (entry_id, "in_consultation", "4")
    assert nurse.post(f"{URL}{entry_id}/complete/").status_code == 403
    assert doctor.post(f"{URL}{entry_id}/complete/").json()["status"] == "completed"
    events = nurse.get(f"{URL}{entry_id}/events/").json()
    assert [e["action"] for e in events] == [
        "enqueue", "start", "nurse-complete", "ready", "call-next", "complete",
    ]  # fmt: skip
    assert events[4]["by"] == "dr_khan" and events[4]["from_status"] == "ready_for_doctor"


def test_illegal_move_is_409_and_unknown_entry_404(client_as, patient, nurse):
    entry = queue_enqueue(patient_id=patient.pk, by=nurse)
    client = client_as("nurse")
    response = client.post(f"{URL}{entry.pk}/ready/")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Token 1 is waiting: cannot ready."
    assert client.post(f"{URL}Q_NOPE0000/cancel/").status_code == 404


def test_undo_through_the_api(client_as, patient, nurse):
    entry = queue_enqueue(patient_id=patient.pk, by=nurse)
    client = client_as("nurse")
    client.post(f"{URL}{entry.pk}/cancel/")
    assert client.post(f"{URL}{entry.pk}/undo/").json()["status"] == "waiting"
    assert client.post(f"{URL}{entry.pk}/undo/").status_code == 409


def test_call_next_with_nobody_ready_is_409(client_as, db):
    response = client_as("doctor").post(f"{URL}call-next")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "No patient is ready for a doctor."


def test_list_filters_by_day_and_status(client_as, nurse):
    first = queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    queue_transition(entry_id=first.pk, action="cancel", by=nurse)
    client = client_as("records")
    rows = client.get(URL, {"day": first.day.isoformat(), "status": "waiting"}).json()["results"]
    assert [row["token_number"] for row in rows] == [2]
    assert client.get(URL, {"day": "2001-01-01"}).json()["results"] == []


def test_board_answers_304_until_the_queue_changes(client_as, nurse):
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    client = client_as("nurse")
    first = client.get(f"{URL}board/")
    assert first.status_code == 200 and first.json()["entries"][0]["token_number"] == 1
    etag = first["ETag"]
    assert client.get(f"{URL}board/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    changed = client.get(f"{URL}board/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(changed.json()["entries"]) == 2


def test_metrics_of_a_day(client_as, nurse):
    entry = queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    body = client_as("records").get(f"{URL}metrics/", {"day": entry.day.isoformat()}).json()
    assert body["waiting"] == 1 and body["total"]["count"] == 1
    assert client_as("records").get(f"{URL}metrics/", {"day": "soon"}).status_code == 400


def test_board_lists_emergencies_first(client_as, nurse):
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse, priority="emergency")
    entries = client_as("doctor").get(f"{URL}board/").json()["entries"]
    ranked = [(e["token_number"], e["priority"]) for e in entries]
    assert ranked == [(2, "emergency"), (1, "normal")]
    assert QueueEntry.objects.count() == 2


def test_hand_built_board_rows_match_the_documented_serializer(nurse, doctor):
    from queue_app.api.serializers import BoardEntrySerializer
    from queue_app.api.views import board_rows
    from queue_app.selectors import queue_board
    from queue_app.services import queue_call_next

    ready_entry(nurse)
    queue_call_next(by=doctor, room="1")
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    entries = queue_board()["entries"]
    instances = [QueueEntry.objects.get(pk=entry["id"]) for entry in entries]
    for instance, entry in zip(instances, entries, strict=True):
        instance.doctor_name = entry["doctor_name"]
    expected = [dict(row) for row in BoardEntrySerializer(instances, many=True).data]
    assert board_rows(entries) == expected


def test_board_readers_share_one_rendering_per_version(
    client_as, nurse, django_assert_max_num_queries
):
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    client = client_as("records")
    first = client.get(f"{URL}board/").json()
    # auth (knox also sweeps the user's lapsed tokens), permissions, version: no board queries
    with django_assert_max_num_queries(7):  # and the access-log entry
        assert client.get(f"{URL}board/").json() == first
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    assert len(client.get(f"{URL}board/").json()["entries"]) == 2
