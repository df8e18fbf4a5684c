"""API tokens: hashed at rest, shown once, lapse, revoked by logout, admin, password change."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from tests.clients import client_for
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
PATIENTS = "/api/v1/patients/"


def login(client, username="nurse_rekha"):
    response = client.post(TOKEN, {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def using(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_is_returned_once_and_only_its_digest_is_stored(anonymous, nurse):
    body = login(anonymous)
    assert set(body) == {"token", "expiry"}
    stored = AuthToken.objects.get(user=nurse)
    assert body["token"] not in (stored.digest, stored.token_key)
    assert using(anonymous, body["token"]).get(PATIENTS).status_code == 200


def test_a_wrong_password_is_a_400_without_a_token(anonymous, nurse):
    response = anonymous.post(TOKEN, {"username": "nurse_rekha", "password": "nope"})
    assert response.status_code == 400
    assert not AuthToken.objects.exists()


def test_a_token_lapses_after_the_configured_time(anonymous, nurse, settings):
    body = login(anonymous)
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert ttl == timedelta(hours=10)
    with time_machine.travel(timezone.now() + ttl + timedelta(minutes=1)):
        assert using(anonymous, body["token"]).get(PATIENTS).status_code == 401


def test_logout_revokes_the_token(anonymous, nurse):
    client = using(anonymous, login(anonymous)["token"])
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get(PATIENTS).status_code == 401


def test_logout_all_revokes_every_token_of_the_user(api_client_for, nurse):
    first, second = api_client_for(nurse), api_client_for(nurse)
    assert first.post("/api/v1/auth/logout-all/").json() == {"revoked": 2}
    assert second.get(PATIENTS).status_code == 401


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_a_password_change_or_deactivation_revokes_all_tokens(api_client_for, nurse, change):
    client = api_client_for(nurse)
    if change == "password":
        nurse.set_password("another-long-passphrase-42")
    else:
        nurse.is_active = False
    nurse.save()
    assert client.get(PATIENTS).status_code == 401
    assert not AuthToken.objects.filter(user=nurse).exists()


def test_an_unrelated_save_keeps_the_tokens(api_client_for, nurse):
    client = api_client_for(nurse)
    nurse.first_name = "Rekha"
    nurse.save()
    assert client.get(PATIENTS).status_code == 200


def test_a_superuser_revokes_tokens_in_the_admin_which_never_shows_them(
    api_client_for, nurse, superuser
):
    client = api_client_for(nurse)
    admin = client_for(superuser)
    page = admin.get(reverse("admin:knox_authtoken_changelist"))
    token = AuthToken.objects.get(user=nurse)
    assert page.status_code == 200
    # Its digest is the record's key (one-way: no login with it); no part of the token shows.
    assert token.token_key not in page.content.decode()
    response = admin.post(
        reverse("admin:knox_authtoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert client.get(PATIENTS).status_code == 401
