"""The API keeps each user's permissions for a few seconds; a change of role applies at once."""

from django.contrib.auth.models import Group, Permission

from clinic import permissions

API = "/api/v1/patients/"


def test_the_permission_read_is_shared_by_the_users_requests(client_as, nurse, monkeypatch):
    client = client_as("nurse")
    assert client.get(API).status_code == 200
    reads = []
    real = permissions.ModelBackend._get_permissions  # the two joined queries per request
    monkeypatch.setattr(
        permissions.ModelBackend, "_get_permissions",
        lambda self, user, obj, kind: reads.append(kind) or real(self, user, obj, kind),
    )  # fmt: skip
    for _ in range(3):
        assert client.get(API).status_code == 200
    assert reads == []


def test_leaving_a_role_applies_to_the_next_request(client_as, nurse):
    client = client_as("nurse")
    assert client.get(API).status_code == 200
    nurse.groups.clear()
    assert client.get(API).status_code == 403


def test_a_role_losing_a_permission_applies_to_the_next_request(client_as, nurse):
    client = client_as("nurse")
    assert client.get(API).status_code == 200
    view = Permission.objects.get(codename="view_patient", content_type__app_label="patients")
    Group.objects.get(name="nurse").permissions.remove(view)
    assert client.get(API).status_code == 403


def test_a_deactivated_user_is_refused_at_once(client_as, nurse):
    client = client_as("nurse")
    assert client.get(API).status_code == 200
    nurse.is_active = False
    nurse.save()
    assert client.get(API).status_code in (401, 403)
