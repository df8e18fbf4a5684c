"""The board as the desk uses it: vitals at the nurse step, the chart in one click, lateness,
cancel with a reason (and undo), calling a chosen patient, enqueue back to the board, printing."""

from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.utils import timezone

from oncology.timeline import patient_timeline
from queue_app.models import QueueEntry, QueueEvent, Vitals
from queue_app.services import QueueConflict, queue_call, queue_enqueue, queue_transition
from queue_app.vitals import vitals_clean
from tests.browser_form import errors_of, submit
from tests.clients import client_for
from tests.factories import PatientFactory

ADMIN = "/admin/queue_app/queueentry/"
API = "/api/v1/queue/"
pytestmark = pytest.mark.django_db


def ready(entry, by):
    for action in ("nurse-complete", "ready"):
        queue_transition(entry_id=entry.pk, action=action, by=by)
    return entry


@pytest.fixture
def entry(nurse):
    patient = PatientFactory(name="Meena Das", age=58, gender="F")
    return queue_enqueue(patient_id=patient.pk, by=nurse, reason="Fever, 3 days")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"temperature_c": "370"}, "temperature_c", "expected 30–45 °C"),
        ({"systolic_bp": "80", "diastolic_bp": "120"}, "systolic_bp", "higher than diastolic"),
        ({"systolic_bp": "120"}, "diastolic_bp", "Give both blood pressure numbers"),
        ({"spo2": "101"}, "spo2", "expected 50–100 %"),
        ({"pulse": "7x"}, "pulse", "must be a number"),
        ({"pulse": "72.5"}, "pulse", "whole number"),
        ({}, "__all__", "at least one vital sign"),
    ],
)
def test_implausible_vitals_are_refused_with_the_range(values, field, message):
    with pytest.raises(Exception) as caught:
        vitals_clean(values)
    assert message in " ".join(caught.value.message_dict[field])


def test_nurse_records_vitals_from_the_board_and_everyone_sees_them(nurse, doctor, entry):
    board = client_for(nurse).get(f"{ADMIN}board/").content.decode()
    assert f"{ADMIN}board/{entry.pk}/vitals/" in board
    response = submit(
        client_for(nurse),
        f"{ADMIN}board/{entry.pk}/vitals/",
        {"systolic_bp": "142", "diastolic_bp": "91", "pulse": "88", "temperature_c": "38.4",
         "spo2": "97", "respiratory_rate": "18", "weight_kg": "70", "height_cm": "165",
         "blood_glucose": "132"},
    )  # fmt: skip
    assert response.status_code == 302, errors_of(response)
    assert response["Location"].endswith(f"{ADMIN}board/")
    vitals = Vitals.objects.get(entry=entry)
    assert (vitals.recorded_by, vitals.bmi, vitals.patient_id) == (
        "nurse_rekha",
        25.7,
        entry.patient_id,
    )
    doctor_board = client_for(doctor).get(f"{ADMIN}board/").content.decode()
    assert "BP 142/91" in doctor_board and "BMI 25.7" in doctor_board
    chart = client_for(doctor).get(f"/admin/patients/patient/{quote(entry.patient_id)}/change/")
    assert "142/91" in chart.content.decode()
    kinds = [e.kind for e in patient_timeline(patient_id=entry.patient_id, user=doctor)]
    assert "vitals" in kinds


def test_implausible_vitals_on_the_board_form_say_why_and_save_nothing(nurse, entry):
    response = submit(client_for(nurse), f"{ADMIN}board/{entry.pk}/vitals/",
                      {"temperature_c": "98.6"})  # fmt: skip
    assert response.status_code == 200
    assert "is not plausible: expected 30–45 °C" in response.content.decode()
    assert not Vitals.objects.exists()


def test_records_cannot_open_the_vitals_form(records, entry):
    assert client_for(records).get(f"{ADMIN}board/{entry.pk}/vitals/").status_code == 403


@pytest.mark.parametrize(("role", "status"), [("nurse", 201), ("doctor", 201), ("records", 403),
                                              ("no_role", 403), ("anonymous", 401)])  # fmt: skip
def test_api_records_vitals_per_role(client_as, role, status, entry):
    response = client_as(role).post(
        f"{API}{entry.pk}/vitals/", {"pulse": 72, "spo2": 98}, format="json"
    )
    assert response.status_code == status
    if status == 201:
        assert (response.json()["pulse"], response.json()["recorded_by"]) == (72, entry_user(role))
        listed = client_as("records").get(f"{API}{entry.pk}/vitals/").json()
        assert [row["spo2"] for row in listed] == [98]


def entry_user(role):
    return {"nurse": "nurse_rekha", "doctor": "dr_khan"}[role]


def test_api_implausible_vitals_answer_400_with_the_field(client_as, entry):
    response = client_as("nurse").post(f"{API}{entry.pk}/vitals/", {"spo2": 140}, format="json")
    assert response.status_code == 400
    assert "spo2" in response.json()["error"]["fields"]


def test_board_row_leads_to_the_chart_with_age_sex_reason_and_lateness(nurse, entry, settings):
    settings.QUEUE_WAIT_WARN_MINUTES, settings.QUEUE_WAIT_ALERT_MINUTES = 30, 60
    QueueEntry.objects.filter(pk=entry.pk).update(added_at=timezone.now() - timedelta(minutes=45))
    page = client_for(nurse).get(f"{ADMIN}board/").content.decode()
    chart = f"/admin/patients/patient/{quote(entry.patient_id)}/change/"
    assert f'href="{chart}"' in page
    assert "58y F" in page and "Fever, 3 days" in page
    assert "late-warn" in page and "45 min" in page


def test_cancel_asks_for_a_reason_and_the_cancelled_row_can_be_undone(nurse, entry):
    client = client_for(nurse)
    refused = client.post(f"{ADMIN}board/{entry.pk}/cancel/", follow=True)
    assert "Give a reason to cancel" in refused.content.decode()
    assert QueueEntry.objects.get(pk=entry.pk).status == "waiting"
    client.post(f"{ADMIN}board/{entry.pk}/cancel/", {"reason": "Left without being seen"})
    assert QueueEntry.objects.get(pk=entry.pk).status == "cancelled"
    assert QueueEvent.objects.get(entry=entry, action="cancel").reason == "Left without being seen"
    page = client.get(f"{ADMIN}board/").content.decode()
    assert "Cancelled today (1)" in page and "Left without being seen" in page
    assert 'data-action="undo-cancel"' in page
    client.post(f"{ADMIN}board/{entry.pk}/undo/")
    assert QueueEntry.objects.get(pk=entry.pk).status == "waiting"


def test_api_cancel_keeps_the_reason(client_as, entry):
    response = client_as("nurse").post(f"{API}{entry.pk}/cancel/", {"reason": "Duplicate"},
                                       format="json")  # fmt: skip
    assert response.status_code == 200
    assert QueueEvent.objects.get(entry=entry, action="cancel").reason == "Duplicate"


def test_doctor_calls_a_chosen_patient_one_at_a_time_and_the_room_is_remembered(nurse, doctor):
    first, second, third = (
        ready(queue_enqueue(patient_id=PatientFactory().pk, by=nurse), nurse) for _ in range(3)
    )
    client = client_for(doctor)
    board = client.get(f"{ADMIN}board/").content.decode()
    assert f"{ADMIN}board/{second.pk}/call/" in board
    client.post(f"{ADMIN}board/{second.pk}/call/", {"room": "Room 3"})
    called = QueueEntry.objects.get(pk=second.pk)
    assert (called.status, called.doctor_id, called.room) == (
        "in_consultation",
        doctor.pk,
        "Room 3",
    )
    refused = client.post(f"{ADMIN}board/{first.pk}/call/", {"room": "Room 3"}, follow=True)
    assert "You are still with token" in refused.content.decode()
    assert QueueEntry.objects.get(pk=first.pk).status == "ready_for_doctor"
    assert 'value="Room 3"' in client.get(f"{ADMIN}board/").content.decode()
    client.post(f"{ADMIN}board/{first.pk}/call/", {"room": "Room 3", "allow_second": "1"})
    assert QueueEntry.objects.get(pk=first.pk).status == "in_consultation"
    with pytest.raises(QueueConflict):
        queue_call(entry_id=third.pk, by=doctor)


@pytest.mark.parametrize(("role", "status"), [("doctor", 200), ("nurse", 403), ("records", 403)])
def test_api_call_a_chosen_patient_per_role(client_as, nurse, role, status):
    entry = ready(queue_enqueue(patient_id=PatientFactory().pk, by=nurse), nurse)
    response = client_as(role).post(f"{API}{entry.pk}/call/", {"room": "4"}, format="json")
    assert response.status_code == status
    if status == 200:
        assert (response.json()["status"], response.json()["room"]) == ("in_consultation", "4")
        other = ready(queue_enqueue(patient_id=PatientFactory().pk, by=nurse), nurse)
        busy = client_as(role).post(f"{API}{other.pk}/call/", {}, format="json")
        assert busy.status_code == 409
        again = client_as(role).post(f"{API}call-next/", {"allow_second": True}, format="json")
        assert (again.status_code, again.json()["room"]) == (200, "4")  # the remembered room


def test_enqueueing_returns_to_the_board_with_the_reason(nurse):
    patient = PatientFactory(name="Ravi Kumar")
    response = submit(client_for(nurse), f"{ADMIN}add/",
                      {"patient": patient.pk, "reason": "Follow-up"})  # fmt: skip
    assert response.status_code == 302, errors_of(response)
    assert response["Location"].endswith(f"{ADMIN}board/")
    assert QueueEntry.objects.get(patient=patient).reason == "Follow-up"


@pytest.mark.parametrize(("role", "status"), [("nurse", 200), ("doctor", 200), ("records", 200),
                                              ("no_role", 403)])  # fmt: skip
def test_token_slip_and_patient_label_print_with_a_qr_code(request, role, status, entry, settings):
    settings.CLINIC_NAME = "Asha Clinic"
    client = client_for(request.getfixturevalue(role))
    for paper in ("a4", "80", "58"):
        slip = client.get(f"{ADMIN}board/{entry.pk}/slip/", {"paper": paper})
        assert slip.status_code == status
        if status == 200:
            html = slip.content.decode()
            assert "Asha Clinic" in html and "Meena Das" in html and "<svg" in html
            assert f"paper-{paper}" in html and f">{entry.token_number}<" in html
    label = client.get(f"{ADMIN}label/{entry.patient_id}/")
    assert label.status_code == status
    if status == 200:
        assert "<svg" in label.content.decode() and "Meena Das" in label.content.decode()


@pytest.mark.parametrize(("role", "status"), [("nurse", 200), ("doctor", 200), ("records", 200),
                                              ("no_role", 403)])  # fmt: skip
def test_vitals_admin_is_read_only_for_every_role(request, role, status, nurse, entry):
    from queue_app.vitals import vitals_record

    vitals = vitals_record(entry_id=entry.pk, by=nurse, values={"pulse": "70"})
    client = client_for(request.getfixturevalue(role))
    base = "/admin/queue_app/vitals/"
    assert client.get(base).status_code == status
    assert client.get(f"{base}{quote(vitals.pk)}/change/").status_code == status
    assert client.get(f"{base}add/").status_code == 403
