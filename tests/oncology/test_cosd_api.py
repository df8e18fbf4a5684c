"""COSD export API: per-role access, validate-only, submission, blocked submission, download."""

import pytest
from lxml import etree

from oncology.models import CosdSubmission
from tests.oncology.test_cosd import at, make_pathway

URL = "/api/v1/cosd/exports/"
PERIOD = {"from": "2024-10-01", "to": "2024-10-31"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.COSD_EXPORT_DIR = tmp_path / "cosd"
    settings.COSD_ORGANISATION_CODE = "RGT"


@pytest.fixture
def pathway(db):
    return make_pathway()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("records", 200), ("superuser", 200), ("doctor", 200), ("nurse", 403), ("no_role", 403)],
)
def test_validate_only_is_open_to_records_superusers_and_doctors(
    request, api_client_for, pathway, persona, expected
):
    user = request.getfixturevalue(persona)

    response = api_client_for(user).get(URL, PERIOD)

    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["can_submit"] is True
        assert body["checks"]["record_count"] == 1
        assert body["filename"].endswith("_PREVIEW.xml")
    assert not CosdSubmission.objects.exists()


def test_anonymous_callers_must_authenticate(anonymous, pathway):
    assert anonymous.get(URL, PERIOD).status_code == 401
    assert anonymous.post(URL, PERIOD, format="json").status_code == 401


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("records", 201), ("superuser", 201), ("doctor", 403), ("nurse", 403)],
)
def test_only_records_and_superusers_create_submissions(
    request, api_client_for, pathway, persona, expected
):
    user = request.getfixturevalue(persona)

    response = api_client_for(user).post(URL, PERIOD, format="json")

    assert response.status_code == expected
    assert CosdSubmission.objects.count() == (1 if expected == 201 else 0)


def test_a_submission_answers_with_its_number_and_a_download_of_the_xml(
    api_client_for, records, pathway
):
    client = api_client_for(records)

    first = client.post(URL, PERIOD, format="json").json()
    second = client.post(URL, PERIOD, format="json").json()

    assert (first["submission"]["number"], second["submission"]["number"]) == (1, 2)
    assert second["submission"]["record_count"] == 1
    download = client.get(second["submission"]["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/xml"
    root = etree.fromstring(b"".join(download.streaming_content))
    assert root.find("Id").get("extension") == "2"
    assert CosdSubmission.objects.get(pk=2).created_by == records


def test_doctors_may_not_download_a_submission(api_client_for, records, doctor, pathway):
    number = api_client_for(records).post(URL, PERIOD, format="json").json()["submission"]["number"]

    response = api_client_for(doctor).get(f"{URL}{number}/download/")

    assert response.status_code == 403


def test_errors_block_the_submission_with_the_checks_in_the_body(api_client_for, records, db):
    make_pathway(
        episode={"nhs_number": ""},
        treatments=[
            {"treatment_type": "surgery", "treatment_date": at("2024-10-21"), "opcs4_code": "H081"}
        ],
    )

    response = api_client_for(records).post(URL, PERIOD, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "checks_failed"
    assert [issue["item"] for issue in body["checks"]["errors"]] == ["nhs_number"]
    assert not CosdSubmission.objects.exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "2024-10-31", "to": "2024-10-01"}, "to"), ({"from": "October"}, "from")],
)
def test_a_bad_period_is_a_400_naming_the_field(api_client_for, records, params, field):
    response = api_client_for(records).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_unknown_submission_is_a_404(api_client_for, records):
    assert api_client_for(records).get(f"{URL}99/download/").status_code == 404
