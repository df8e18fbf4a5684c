"""Idle sessions end, staff passwords are long and uncommon, and full-access accounts use TOTP."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.clients import client_for
from tests.conftest import PASSWORD

BOARD_TABLE = "/admin/queue_app/queueentry/board/table/"


def test_a_session_unused_for_half_an_hour_ends(nurse):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for(nurse)
        assert client.get("/admin/").status_code == 200
        clock.move_to(start + timedelta(minutes=25))
        assert client.get("/admin/").status_code == 200  # use keeps it alive
        clock.move_to(start + timedelta(minutes=50))
        assert client.get("/admin/").status_code == 200
        clock.move_to(start + timedelta(minutes=81))
        assert client.get("/admin/").status_code == 302


def test_the_boards_background_refresh_does_not_keep_a_session_alive(nurse):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for(nurse)
        assert client.get("/admin/").status_code == 200
        for minutes in (10, 20, 29):
            clock.move_to(start + timedelta(minutes=minutes))
            client.get(BOARD_TABLE)
        clock.move_to(start + timedelta(minutes=31))
        assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("password", ["short-pass1", "123456789012345", "1q2w3e4r5t6y"])
def test_staff_passwords_must_be_long_and_uncommon(nurse, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=nurse)


def test_a_long_uncommon_password_passes(nurse):
    validate_password("amber-tractor-lentil-47", user=nurse)


# -- two-factor ---------------------------------------------------------------------------


@pytest.fixture
def otp_on(settings):
    settings.OTP_REQUIRED = True


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def admin_login(username, **extra):
    client = Client()
    data = {"username": username, "password": PASSWORD, "next": "/admin/", **extra}
    return client.post("/admin/login/", data), client


def test_records_needs_the_authenticator_code_at_the_admin_login(otp_on, records):
    device = device_for(records)
    response, client = admin_login("records_ali")
    assert response.status_code == 200 and "authenticator" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    response, client = admin_login("records_ali", otp_token=code(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_superuser_without_a_device_is_told_to_get_one(otp_on, superuser):
    response, _client = admin_login("admin", otp_token="123456")
    assert "no authenticator set up" in response.content.decode()


def test_a_nurse_logs_in_without_a_code(otp_on, nurse):
    response, client = admin_login("nurse_rekha")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_token_endpoint_asks_records_for_the_code(otp_on, records, anonymous):
    device = device_for(records)
    refused = anonymous.post(
        "/api/v1/auth/token/", {"username": "records_ali", "password": PASSWORD}
    )
    assert refused.status_code == 400
    assert "otp" in refused.json()["error"]["fields"]
    granted = anonymous.post(
        "/api/v1/auth/token/",
        {"username": "records_ali", "password": PASSWORD, "otp": code(device)},
    )
    assert granted.status_code == 200


def test_a_session_without_a_code_ends_once_two_factor_is_required(records, settings):
    client = client_for(records)
    assert client.get("/admin/").status_code == 200
    settings.OTP_REQUIRED = True
    assert client.get("/admin/").status_code == 302


def test_without_the_setting_the_demo_logins_need_no_code(records):
    response, client = admin_login("records_ali")
    assert response.status_code == 302


def test_a_superuser_gets_the_setup_address_of_a_device(superuser, records):
    device = device_for(records)
    response = client_for(superuser).post(
        "/admin/otp_totp/totpdevice/",
        {"action": "show_setup_address", "_selected_action": [device.pk]},
        follow=True,
    )
    assert "otpauth://totp/" in response.content.decode()
