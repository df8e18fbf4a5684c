"""What every API endpoint shares: authentication, pagination, the error shape, audit, schema."""

import re

import pytest
from auditlog.models import LogEntry
from django.db.models import QuerySet
from drf_spectacular.validation import validate_schema

from clinic.api.pagination import PagePagination
from patients.models import Patient
from tests.factories import PatientFactory

API = "/api/v1"
PATHS = [
    "/patients/",
    "/patients/{id}/",
    "/notes/",
    "/notes/{id}/",
    "/history/",
    "/history/{id}/",
    "/patients/{parent_id}/notes/",
    "/patients/{parent_id}/history/",
    "/patients/{parent_id}/queue-entries/",
    "/patients/{parent_id}/episodes/",
    "/episodes/",
    "/episodes/{id}/",
    "/treatments/",
    "/treatments/{id}/",
    "/tumours/",
    "/tumours/{id}/",
    "/episodes/{parent_id}/treatments/",
    "/episodes/{parent_id}/tumours/",
]


def error_of(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_anonymous_gets_401_with_a_token_challenge(anonymous, db):
    response = anonymous.get(f"{API}/patients/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert error_of(response)["code"] == "not_authenticated"


def test_a_wrong_token_is_a_401(api_client_for, db):
    client = api_client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(f"{API}/patients/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_the_token_endpoint_trades_a_password_for_a_token(anonymous, nurse):
    from tests.conftest import PASSWORD

    response = anonymous.post(
        f"{API}/auth/token/", {"username": nurse.username, "password": PASSWORD}, format="json"
    )
    token = response.json()["token"]
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous.get(f"{API}/patients/").status_code == 200


def test_an_admin_session_also_works_for_reads(client, doctor):
    client.force_login(doctor)
    assert client.get(f"{API}/patients/").status_code == 200


def test_pages_link_to_the_next_and_previous_page(client_as, db):
    PatientFactory.create_batch(3)
    client = client_as("nurse")
    first = client.get(f"{API}/patients/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert set(first) == {"next", "previous", "results"}
    assert "page=2" in first["next"] and "page_size=2" in first["next"]
    assert first["previous"] is None and second["next"] is None
    assert "page=" not in second["previous"]
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert {row["id"] for row in first["results"] + second["results"]} == set(
        Patient.objects.values_list("pk", flat=True)
    )


def test_a_page_past_the_end_is_a_404_in_the_error_shape(client_as, db):
    PatientFactory()
    response = client_as("nurse").get(f"{API}/patients/", {"page": 5})
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": "Page 5 is past the last page.",
        "fields": {},
    }


def test_page_one_of_an_empty_list_is_an_empty_page(client_as, db):
    body = client_as("nurse").get(f"{API}/patients/").json()
    assert body == {"next": None, "previous": None, "results": []}


def test_page_size_is_capped(client_as, db, monkeypatch):
    monkeypatch.setattr(PagePagination, "max_page_size", 2)
    PatientFactory.create_batch(3)
    body = client_as("nurse").get(f"{API}/patients/", {"page_size": 1000}).json()
    assert len(body["results"]) == 2 and body["next"]


def test_bad_page_numbers_are_a_400(client_as, db):
    client = client_as("nurse")
    for params in ({"page": 0}, {"page": "two"}, {"page_size": -5}):
        response = client.get(f"{API}/patients/", params)
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == list(params)


def test_lists_never_count_the_table(client_as, db, monkeypatch):
    PatientFactory.create_batch(2)
    client = client_as("nurse")

    def no_count(self):
        raise AssertionError("a list ran COUNT")

    monkeypatch.setattr(QuerySet, "count", no_count)
    assert client.get(f"{API}/patients/", {"page_size": 1}).status_code == 200


def test_every_4xx_has_the_one_error_shape(client_as, db):
    client = client_as("nurse")
    responses = {
        "malformed json": client.generic(
            "POST", f"{API}/patients/", "{not json", content_type="application/json"
        ),
        "wrong media type": client.generic(
            "POST", f"{API}/patients/", "name=x", content_type="text/plain"
        ),
        # Nobody holds delete permissions, so only a superuser gets as far as the 405.
        "method not allowed": client_as("superuser").delete(f"{API}/patients/PAT_X/"),
        "not found": client.get(f"{API}/patients/PAT_NOPE0000/"),
        "no role": client_as("no_role").get(f"{API}/patients/"),
        "bad payload": client.post(f"{API}/patients/", {"age": 500}, format="json"),
    }
    codes = {name: (r.status_code, error_of(r)["code"]) for name, r in responses.items()}
    assert codes == {
        "malformed json": (400, "parse_error"),
        "wrong media type": (415, "unsupported_media_type"),
        "method not allowed": (405, "method_not_allowed"),
        "not found": (404, "not_found"),
        "no role": (403, "permission_denied"),
        "bad payload": (400, "invalid"),
    }
    assert error_of(responses["bad payload"])["fields"] == {
        "name": ["Enter the patient's name."],
        "age": ["Age must be a whole number between 0 and 130."],
    }


def test_api_writes_by_token_are_audited_with_actor_address_and_changes(client_as, nurse, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.1"]  # X-Forwarded-For only from these
    client = client_as("nurse")
    created = client.post(
        f"{API}/patients/",
        {"name": "Asha Rao", "age": 34},
        format="json",
        REMOTE_ADDR="10.1.2.3",
    ).json()
    client.patch(
        f"{API}/patients/{created['id']}/",
        {"age": 35},
        format="json",
        HTTP_X_FORWARDED_FOR="192.0.2.7, 10.0.0.1",
    )
    entries = LogEntry.objects.filter(object_pk=created["id"]).order_by("timestamp")
    create, update = list(entries)
    assert (create.action, create.actor_id, create.remote_addr) == (
        LogEntry.Action.CREATE,
        nurse.pk,
        "10.1.2.3",
    )
    assert create.changes["name"] == ["None", "Asha Rao"]
    assert (update.action, update.actor_id, update.remote_addr) == (
        LogEntry.Action.UPDATE,
        nurse.pk,
        "192.0.2.7",
    )
    assert update.changes["age"] == ["34", "35"]
    assert "name" not in update.changes


def test_schema_is_valid_and_documents_every_endpoint_and_its_errors(anonymous, db):
    response = anonymous.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    paths = schema["paths"]
    missing = [path for path in PATHS if API + path not in paths]
    assert not missing
    for path in PATHS:
        for method, operation in paths[API + path].items():
            codes = set(operation["responses"])
            assert {"401", "403", "404"} <= codes, (method, path)
            if method in {"post", "put", "patch"} or "{id}" not in path:
                assert "400" in codes, (method, path)
            assert "delete" not in paths[API + path]
    error = paths[f"{API}/patients/"]["post"]["responses"]["400"]["content"]["application/json"]
    assert error["schema"]["$ref"] == "#/components/schemas/Error"
    created = paths[f"{API}/patients/"]["post"]["responses"]["201"]["content"]
    assert created["application/json"]["schema"]["$ref"] == "#/components/schemas/Patient"
    assert "embedded_treatments" not in str(schema["components"]["schemas"]["Episode"])


def test_docs_page_loads_only_local_assets_and_they_are_served(anonymous, db, settings):
    # Offline clinics: no CDN. WhiteNoise serves the sidecar's Swagger UI files itself.
    settings.WHITENOISE_USE_FINDERS = True
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://", html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Swagger UI's start-up script comes from the page's own URL (no inline script, for the CSP).
    local = [url for url in assets if url.startswith("/static/")] + ["/api/docs/?script="]
    assert len(assets) >= 4 and set(assets) == set(local), assets
    for url in assets:
        asset = anonymous.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
    assert "/api/schema/" in anonymous.get("/api/docs/?script=").content.decode()


@pytest.mark.sqlite_only(reason="no database involved: collectstatic is the same on both legs")
def test_docs_assets_are_served_from_the_production_static_build(anonymous, settings, tmp_path):
    # What bin/serve does: collectstatic into STATIC_ROOT with hashed names, WhiteNoise serves.
    from django.core.management import call_command

    from clinic import settings as production

    settings.STORAGES, settings.STATIC_ROOT = production.STORAGES, tmp_path
    call_command("collectstatic", "--no-input", verbosity=0)
    html = anonymous.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) >= 3
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", url), url  # hashed: cache forever
        assert anonymous.get(url).status_code == 200, url
