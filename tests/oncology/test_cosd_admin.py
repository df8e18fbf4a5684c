"""COSD admin: read-only submissions, the export page per role, checks shown, download."""

import pytest
from django.urls import reverse

from oncology.models import CosdSubmission
from tests.oncology.test_cosd import make_pathway

EXPORT = "/admin/oncology/cosdsubmission/export/"
PERIOD = {"period_start": "2024-10-01", "period_end": "2024-10-31"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.COSD_EXPORT_DIR = tmp_path / "cosd"
    settings.COSD_ORGANISATION_CODE = "RGT"


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_records_creates_a_submission_and_downloads_it(logged_in, records, db):
    make_pathway(dob=None)
    client = logged_in(records)

    page = client.post(EXPORT, {**PERIOD, "submit": "1"})

    assert page.status_code == 200
    assert CosdSubmission.objects.get().number == 1
    html = page.content.decode()
    assert "Submission 1 created with 1 record(s)." in html
    assert "Date of birth is missing." in html  # warnings shown, not blocking
    download = client.get(reverse("admin:oncology_cosdsubmission_download", args=[1]))
    assert download.status_code == 200
    assert b"<cosd:COSD" in b"".join(download.streaming_content)


def test_check_shows_errors_and_allocates_nothing(logged_in, records, db):
    episode = make_pathway(episode={"nhs_number": ""})

    page = logged_in(records).post(EXPORT, {**PERIOD, "check": "1"})

    html = page.content.decode()
    assert "1 error" in html and episode.pk in html and "NHS number is missing." in html
    assert f'href="/admin/patients/patient/{episode.patient_id}/timeline/"' in html
    assert not CosdSubmission.objects.exists()


def test_errors_block_a_submission_from_the_admin(logged_in, records, db):
    make_pathway(icd10="C99")

    page = logged_in(records).post(EXPORT, {**PERIOD, "submit": "1"})

    assert "block this COSD submission" in page.content.decode()
    assert not CosdSubmission.objects.exists()


def test_doctors_may_check_but_not_submit_or_download(logged_in, doctor, db):
    make_pathway()
    client = logged_in(doctor)

    assert 'name="submit"' not in client.get(EXPORT).content.decode()
    assert client.post(EXPORT, {**PERIOD, "check": "1"}).status_code == 200
    assert client.post(EXPORT, {**PERIOD, "submit": "1"}).status_code == 403
    CosdSubmission.objects.create(number=1, period_start="2024-10-01", period_end="2024-10-31")
    assert (
        client.get(reverse("admin:oncology_cosdsubmission_download", args=[1])).status_code == 403
    )


def test_nurses_have_no_cosd_pages(logged_in, nurse):
    client = logged_in(nurse)

    assert client.get(EXPORT).status_code == 403
    assert client.get("/admin/oncology/cosdsubmission/").status_code == 403


def test_submissions_are_read_only_in_the_admin(logged_in, superuser, db):
    CosdSubmission.objects.create(
        number=7,
        period_start="2024-10-01",
        period_end="2024-10-31",
        record_count=3,
        filename="COSD_RGT_CO_x.xml",
    )
    client = logged_in(superuser)

    changelist = client.get("/admin/oncology/cosdsubmission/")
    change = client.get("/admin/oncology/cosdsubmission/7/change/")

    assert changelist.status_code == 200 and "COSD export" in changelist.content.decode()
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.get("/admin/oncology/cosdsubmission/add/").status_code == 403
