import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from queue_app.services import queue_call_next, queue_enqueue, queue_transition
from tests.conftest import PASSWORD
from tests.factories import PatientFactory

DISPLAY = "/queue/display/"


@pytest.fixture
def busy_day(nurse, doctor):
    seen = queue_enqueue(patient_id=PatientFactory(name="Ravi Kumar").pk, by=nurse)
    for action in ("nurse-complete", "ready"):
        queue_transition(entry_id=seen.pk, action=action, by=nurse)
    queue_call_next(by=doctor, room="3")
    queue_enqueue(patient_id=PatientFactory(name="Sita Iyer").pk, by=nurse)


def staff_client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def test_display_shows_serving_and_next_tokens_without_names(busy_day, records):
    page = staff_client(records).get(DISPLAY).content.decode()
    assert "Room 3" in page and 'data-token="1"' in page and 'data-token="2"' in page
    assert "Ravi Kumar" not in page and "Sita Iyer" not in page
    assert "EventSource" in page


def test_names_only_on_request_for_staff_who_may_view_the_queue(busy_day, records, no_role):
    assert "Ravi Kumar" in staff_client(records).get(DISPLAY, {"names": "1"}).content.decode()
    assert "Ravi Kumar" not in staff_client(no_role).get(DISPLAY, {"names": "1"}).content.decode()


def test_display_token_from_settings_opens_it_without_login(busy_day, settings):
    settings.QUEUE_DISPLAY_TOKEN = "tv-lobby-7f3a"
    client = Client()
    assert client.get(DISPLAY, {"token": "tv-lobby-7f3a"}).status_code == 200
    assert client.get(f"{DISPLAY}panel/", {"token": "tv-lobby-7f3a"}).status_code == 200
    assert client.get(DISPLAY, {"token": "guess"}).status_code == 302
    assert client.get(f"{DISPLAY}panel/", {"token": "guess"}).status_code == 403
    assert client.get(f"{DISPLAY}stream/").status_code == 403
    assert (
        "Ravi Kumar"
        not in client.get(DISPLAY, {"token": "tv-lobby-7f3a", "names": "1"}).content.decode()
    )


def test_display_without_login_or_token_goes_to_login(db):
    response = Client().get(DISPLAY)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_display_panel_304_and_stream(busy_day, records, nurse, settings):
    settings.QUEUE_STREAM_SECONDS = 0
    client = staff_client(records)
    etag = client.get(f"{DISPLAY}panel/")["ETag"]
    assert client.get(f"{DISPLAY}panel/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    queue_enqueue(patient_id=PatientFactory().pk, by=nurse)
    assert client.get(f"{DISPLAY}panel/", HTTP_IF_NONE_MATCH=etag).status_code == 200
    stream = client.get(f"{DISPLAY}stream/")
    assert stream["Content-Type"] == "text/event-stream"

    async def body():  # an async view's stream (served under ASGI): read it in an event loop
        return b"".join([chunk async for chunk in stream.streaming_content])

    assert "event: queue" in async_to_sync(body)().decode()
