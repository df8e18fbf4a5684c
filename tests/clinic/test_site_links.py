"""The ways into the site: `/`, the login path screens use, the admin index links, and names."""

import subprocess
from pathlib import Path

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse

from queue_app.selectors import room_label
from tests.clients import client_for
from tests.factories import HistoryEntryFactory, PatientFactory

ROOT = Path(__file__).resolve().parents[2]


def test_root_leads_to_the_admin(db):
    response = Client().get("/", follow=True)
    assert response.redirect_chain[0] == ("/admin/", 302)
    assert response.status_code == 200 and "/admin/login/" in response.request["PATH_INFO"]


def test_an_unattended_display_is_sent_to_a_login_page_that_exists(db):
    response = Client().get("/queue/display/", follow=True)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/admin/login/"
    assert "next=/queue/display/" in response.redirect_chain[-1][0]


def test_the_old_login_path_keeps_where_to_go_next(db):
    response = Client().get("/accounts/login/", {"next": "/queue/display/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2Fqueue%2Fdisplay%2F"


ROOMS = [("3", "Room 3"), ("Room 3", "Room 3"), ("room 12", "room 12"), ("Minor OT", "Minor OT")]


@pytest.mark.parametrize(("typed", "shown"), ROOMS)
def test_room_is_labelled_once(typed, shown):
    assert room_label(typed) == shown


def test_admin_index_links_to_the_board_display_and_wait_times(nurse, no_role):
    page = client_for(nurse).get(reverse("admin:index")).content.decode()
    for link in ("Today's board", "TV display", "Wait times"):
        assert link in page
    assert reverse("admin:queue_app_queueentry_board") in page
    assert reverse("queue:display") in page
    assert reverse("admin:queue_app_queueentry_metrics") in page
    assert "TV display" not in client_for(no_role).get(reverse("admin:index")).content.decode()


def test_model_names_read_as_staff_say_them(records):
    page = client_for(records).get(reverse("admin:index")).content.decode()
    assert "COSD submissions" in page and "Cosd submissions" not in page
    assert "Medical history entries" in page


def test_change_log_is_not_called_history_beside_the_medical_history(doctor):
    patient = HistoryEntryFactory(patient=PatientFactory()).patient
    page = (
        client_for(doctor)
        .get(reverse("admin:patients_patient_change", args=[quote(patient.pk)]))
        .content.decode()
    )
    assert ">Change log</a>" in page and ">History</a>" not in page
    assert "Medical history entries" in page


def test_bin_serve_prints_a_display_url_with_a_token_for_the_demo():
    script = (ROOT / "bin" / "serve").read_text()
    assert "/queue/display/?token=${QUEUE_DISPLAY_TOKEN}" in script
    result = subprocess.run(["bash", "-n", str(ROOT / "bin" / "serve")], capture_output=True)
    assert result.returncode == 0
