"""`manage.py export_cosd`: validate-only allocates nothing, a run writes, errors exit 1."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from oncology.models import CosdSubmission
from tests.oncology.test_cosd import make_pathway

PERIOD = ["--from", "2024-10-01", "--to", "2024-10-31"]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.COSD_EXPORT_DIR = tmp_path / "cosd"
    settings.COSD_ORGANISATION_CODE = "RGT"
    return settings.COSD_EXPORT_DIR


def run(*args) -> str:
    out = StringIO()
    call_command("export_cosd", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_validate_only_prints_the_checks_and_writes_nothing(tmp_path, export_dir):
    make_pathway(dob=None)
    report = tmp_path / "checks.json"

    output = run(
        *PERIOD, "--validate-only", "--out", str(tmp_path / "x.xml"), "--report", str(report)
    )

    assert "Records: 1; errors: 0; warnings: 1" in output
    assert "Date of birth" in output and "0.0%" in output
    assert not CosdSubmission.objects.exists()
    assert not (tmp_path / "x.xml").exists() and not export_dir.exists()
    assert json.loads(report.read_text())["warning_count"] == 1


@pytest.mark.django_db
def test_a_run_takes_the_next_number_and_writes_the_file_to_out(tmp_path):
    make_pathway()
    target = tmp_path / "october.xml"

    run(*PERIOD)
    output = run(*PERIOD, "--out", str(target))

    assert "Submission 2: 1 record(s)" in output
    assert etree.parse(str(target)).getroot().find("Id").get("extension") == "2"
    assert CosdSubmission.objects.count() == 2


@pytest.mark.django_db
def test_blocking_errors_exit_1_and_take_no_number():
    make_pathway(episode={"nhs_number": "123"})

    with pytest.raises(CommandError) as raised:
        run(*PERIOD)

    assert raised.value.returncode == 1
    assert not CosdSubmission.objects.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2024-13-01", "--to", "2024-10-31"],
        ["--from", "2024-10-31", "--to", "2024-10-01"],
    ],
)
def test_bad_dates_exit_2(args):
    with pytest.raises(CommandError) as raised:
        run(*args)

    assert raised.value.returncode == 2
