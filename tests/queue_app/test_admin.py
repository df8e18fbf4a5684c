import pytest
from django.contrib.admin.utils import quote
from django.test import Client

from queue_app.models import QueueEntry
from queue_app.services import queue_enqueue, queue_transition
from tests.conftest import PASSWORD
from tests.factories import PatientFactory

ADMIN = "/admin/queue_app/queueentry/"


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def todays_entry(nurse):
    return queue_enqueue(patient_id=PatientFactory(name="Meena Das").pk, by=nurse)


# Admin URLs escape "_": a raw ID such as Q_3BACD3DD would read as "Q;ACD3DD".
@pytest.mark.parametrize(
    ("role", "status"),
    [("nurse", 200), ("doctor", 200), ("records", 200), ("superuser", 200), ("no_role", 403)],
)
def test_admin_pages_per_role(request, role, status, todays_entry):
    client = login(request.getfixturevalue(role))
    pages = [ADMIN, f"{ADMIN}{quote(todays_entry.pk)}/change/", f"{ADMIN}board/",
             f"{ADMIN}board/table/", f"{ADMIN}metrics/", f"{ADMIN}?q=Meena"]  # fmt: skip
    for page in pages:
        assert client.get(page).status_code == status, page


def test_changelist_shows_today_by_default(nurse, todays_entry):
    old = queue_enqueue(patient_id=PatientFactory(name="Old Visit").pk, by=nurse)
    QueueEntry.objects.filter(pk=old.pk).update(day="2020-01-01")
    page = login(nurse).get(ADMIN).content.decode()
    assert "Meena Das" in page and "Old Visit" not in page
    assert "Old Visit" in login(nurse).get(ADMIN, {"day": "all"}).content.decode()


def test_change_page_is_read_only_with_the_event_history(nurse, todays_entry):
    queue_transition(entry_id=todays_entry.pk, action="start", by=nurse)
    page = login(nurse).get(f"{ADMIN}{quote(todays_entry.pk)}/change/").content.decode()
    assert 'name="_save"' not in page
    assert "enqueue" in page and "start" in page


def test_admin_add_form_enqueues_with_the_next_token(nurse, todays_entry):
    patient = PatientFactory()
    response = login(nurse).post(f"{ADMIN}add/", {"patient": patient.pk, "priority": "urgent"})
    assert response.status_code == 302
    entry = QueueEntry.objects.get(patient=patient)
    assert (entry.token_number, entry.priority) == (2, "urgent")
    again = login(nurse).post(f"{ADMIN}add/", {"patient": patient.pk, "priority": "normal"})
    assert "already in today&#x27;s queue" in again.content.decode()


def test_board_buttons_follow_the_role(nurse, doctor, todays_entry):
    nurse_page = login(nurse).get(f"{ADMIN}board/").content.decode()
    assert 'data-action="nurse-complete"' in nurse_page and "Call next patient" not in nurse_page
    doctor_page = login(doctor).get(f"{ADMIN}board/").content.decode()
    assert "Call next patient" in doctor_page


def test_one_click_steps_from_the_board(nurse, doctor, todays_entry):
    nurse_client, doctor_client = login(nurse), login(doctor)
    for step in ("nurse-complete", "ready"):
        response = nurse_client.post(f"{ADMIN}board/{todays_entry.pk}/{step}/")
        assert response.status_code == 302 and response["Location"].endswith("/board/")
    doctor_client.post(f"{ADMIN}board/call-next/", {"room": "7"})
    entry = QueueEntry.objects.get(pk=todays_entry.pk)
    assert (entry.status, entry.room, entry.doctor) == ("in_consultation", "7", doctor)
    page = nurse_client.post(f"{ADMIN}board/{entry.pk}/ready/", follow=True).content.decode()
    assert "Token 1 is in consultation: cannot ready." in page
    assert nurse_client.get(f"{ADMIN}board/{entry.pk}/ready/").status_code == 405


def test_records_cannot_act_from_the_board(records, todays_entry):
    page = login(records).post(f"{ADMIN}board/{todays_entry.pk}/cancel/", follow=True)
    assert "may not cancel" in page.content.decode()
    assert QueueEntry.objects.get(pk=todays_entry.pk).status == "waiting"


def test_board_table_answers_304_while_unchanged(nurse, todays_entry):
    client = login(nurse)
    first = client.get(f"{ADMIN}board/table/")
    assert client.get(f"{ADMIN}board/table/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    queue_transition(entry_id=todays_entry.pk, action="start", by=nurse)
    assert client.get(f"{ADMIN}board/table/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_cancel_action_says_how_many(nurse, todays_entry):
    response = login(nurse).post(
        ADMIN, {"action": "cancel_selected", "_selected_action": [todays_entry.pk]}, follow=True
    )
    assert "Cancelled 1 entries." in response.content.decode()


def test_metrics_page_draws_a_chart(records, todays_entry):
    page = login(records).get(f"{ADMIN}metrics/").content.decode()
    assert "<svg" in page and "Arrival → nurse" in page and "1 waiting now" in page
