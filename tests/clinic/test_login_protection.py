"""Repeated failed logins lock out a username and an address: admin and token endpoint."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.urls import reverse

from tests.clients import client_for
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def admin_login(username, password, address="192.0.2.10"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return response, client


def token_login(client, username, password, address="192.0.2.10"):
    return client.post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_three_wrong_passwords_the_right_one_is_refused_at_the_admin(nurse):
    for _ in range(3):
        response, _client = admin_login("nurse_rekha", "wrong")
        assert response.status_code in (200, 429)
    response, client = admin_login("nurse_rekha", PASSWORD)
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still not logged in


def test_the_token_endpoint_locks_out_too_and_answers_in_the_error_shape(anonymous, nurse):
    for _ in range(3):
        assert token_login(anonymous, "nurse_rekha", "wrong").status_code in (400, 429)
    response = token_login(anonymous, "nurse_rekha", PASSWORD)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert "token" not in response.json()


def test_a_username_is_locked_whatever_address_the_guesses_come_from(anonymous, nurse):
    for n in range(3):
        token_login(anonymous, "nurse_rekha", "wrong", address=f"192.0.2.{20 + n}")
    assert (
        token_login(anonymous, "nurse_rekha", PASSWORD, address="198.51.100.1").status_code == 429
    )


def test_an_address_is_locked_whatever_usernames_it_guesses(anonymous, nurse, doctor):
    for name in ("a", "b", "c"):
        token_login(anonymous, name, "wrong", address="203.0.113.9")
    assert token_login(anonymous, "dr_khan", PASSWORD, address="203.0.113.9").status_code == 429
    assert token_login(anonymous, "dr_khan", PASSWORD, address="203.0.113.10").status_code == 200


def test_failures_and_logins_are_logged(anonymous, nurse):
    token_login(anonymous, "nurse_rekha", "wrong")
    assert token_login(anonymous, "nurse_rekha", PASSWORD).status_code == 200
    failure = AccessFailureLog.objects.get()
    assert (failure.username, failure.ip_address) == ("nurse_rekha", "192.0.2.10")
    assert AccessLog.objects.filter(username="nurse_rekha", ip_address="192.0.2.10").exists()


def test_records_role_sees_attempts_and_lock_outs_but_cannot_lift_them(anonymous, nurse, records):
    for _ in range(3):
        token_login(anonymous, "nurse_rekha", "wrong")
    records_client = client_for(records)
    for name in ("accessattempt", "accessfailurelog", "accesslog"):
        page = records_client.get(reverse(f"admin:axes_{name}_changelist"))
        assert page.status_code == 200, name
    attempt = AccessAttempt.objects.get(username="nurse_rekha")
    lift = {"action": "lift_lockout", "_selected_action": [attempt.pk]}
    records_client.post(reverse("admin:axes_accessattempt_changelist"), lift)
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert client_for(nurse).get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_a_superuser_lifts_a_lock_out(anonymous, nurse, superuser):
    for _ in range(3):
        token_login(anonymous, "nurse_rekha", "wrong")
    assert token_login(anonymous, "nurse_rekha", PASSWORD).status_code == 429
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = client_for(superuser).post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "lift_lockout", "_selected_action": ids},
    )
    assert response.status_code == 302
    assert token_login(anonymous, "nurse_rekha", PASSWORD).status_code == 200
