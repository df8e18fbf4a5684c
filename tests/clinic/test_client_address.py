"""X-Forwarded-For counts only from configured proxies, and only when it holds an address."""

import pytest
from auditlog.models import LogEntry

from clinic.middleware import client_address

PROXY = "10.0.0.1"
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "remote, forwarded, expected",
    [
        ("192.0.2.5", "198.51.100.7", "192.0.2.5"),  # not from a proxy: header ignored
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "203.0.113.1, 198.51.100.7", "198.51.100.7"),  # the hop the proxy saw
        (PROXY, "not-an-ip", PROXY),
        (PROXY, "198.51.100.7, not-an-ip", PROXY),
        (PROXY, "2001:db8::1", "2001:db8::1"),
        (PROXY, "", PROXY),
    ],
)
def test_client_address(remote, forwarded, expected):
    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(meta, {PROXY}) == expected


@pytest.mark.parametrize("trusted, expected", [([], "127.0.0.1"), (["127.0.0.1"], "127.0.0.1")])
def test_a_made_up_forwarded_address_never_reaches_the_audit_log(
    client_as, settings, trusted, expected
):
    settings.TRUSTED_PROXIES = trusted
    response = client_as("nurse").post(
        "/api/v1/patients/", {"name": "Asha Rao"}, format="json", HTTP_X_FORWARDED_FOR="not-an-ip"
    )
    assert response.status_code == 201
    assert LogEntry.objects.get(object_pk=response.json()["id"]).remote_addr == expected
