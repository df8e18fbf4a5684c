"""Personas and API clients shared by every test module."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from clinic.permissions import DOCTOR, NURSE, RECORDS, sync_roles
from tests.backend_leg import LEG

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    if LEG == "mongodb":
        from tests import mongo_reset

        with django_db_blocker.unblock():
            mongo_reset.install()


@pytest.fixture(autouse=True)
def plain_http(settings):
    # The test client speaks plain HTTP, as bin/serve does; production redirects to HTTPS.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def static_without_manifest(settings):
    # Pages render without a collectstatic run; the manifest storage is for production.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs ~0.3 s per persona; tests need no real hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(db):
    # The role groups are as migrate left them (SQLite rolls each test back; MongoDB, which has
    # none, gets them put back by tests/mongo_reset.py); this sets their permissions once more.
    sync_roles(create_missing_permissions=False)


def _staff(username: str, role: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def nurse(roles):
    return _staff("nurse_rekha", NURSE)


@pytest.fixture
def doctor(roles):
    return _staff("dr_khan", DOCTOR)


@pytest.fixture
def records(roles):
    return _staff("records_ali", RECORDS)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="admin", password=PASSWORD)


@pytest.fixture
def no_role(db):
    return _staff("visitor")


@pytest.fixture
def api_client_for():
    """`api_client_for(user)`: an APIClient with a token of the user's (None: anonymous)."""
    from clinic.auth import token_create

    def make(user=None):
        client = APIClient()
        if user is not None:
            _instance, token = token_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def anonymous(api_client_for):
    return api_client_for(None)


ROLES = ("anonymous", "no_role", "nurse", "doctor", "records", "superuser")


@pytest.fixture
def client_as(request, api_client_for):
    """`client_as("nurse")` -> an API client for that persona (one of ROLES)."""

    def make(role: str):
        if role == "anonymous":
            return api_client_for(None)
        return api_client_for(request.getfixturevalue(role))

    return make
