"""migrate_json on the oncology system's own patients and episodes (legacy/surgdb.py)."""

import pytest
from django.core.exceptions import ValidationError

from legacy import surgdb
from oncology.models import Episode
from patients.models import Patient, validate_nhs_number
from tests.factories import PatientFactory
from tests.legacy import surgdb_data as data
from tests.legacy.conftest import by_file


@pytest.fixture
def no_key():
    surgdb._secret.clear()
    surgdb._cipher.cache_clear()
    yield
    surgdb._secret.clear()
    surgdb._cipher.cache_clear()


@pytest.fixture
def encrypted(no_key, tmp_path):
    """That system's encrypt_field with a key and salt the test holds; the files are written."""
    surgdb.set_key(key=data.KEY, salt=data.SALT)
    (tmp_path / "key").write_bytes(data.KEY)
    (tmp_path / "salt").write_bytes(data.SALT)
    cipher = surgdb._cipher()
    surgdb._secret.clear()
    surgdb._cipher.cache_clear()
    return lambda value: surgdb.encrypt(value, cipher)


def _files(tmp_path, patients, episodes, mode="relaxed"):
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    data.write(folder / "patients.json", patients, mode)
    if episodes:
        data.write(folder / "episodes.json", episodes, mode)
    return folder


@pytest.mark.parametrize("mode", ["relaxed", "canonical"])
def test_its_patients_and_episodes_import_and_link(db, tmp_path, migrate, no_key, mode):
    patients = [data.patient(1), data.patient(2, nhs="401 023 2137")]
    episodes = [data.episode(1, "IW000001"), data.episode(2, "10000002", nhs="4010232137")]
    code, report, rejects = migrate(_files(tmp_path, patients, episodes, mode))
    assert (code, rejects) == (0, [])
    assert by_file(report)["patients"]["created"] == 2
    assert by_file(report)["episodes"]["created"] == 2
    ann = Patient.objects.get(uhid="IW000001")
    assert (ann.pk, ann.name, ann.nhs_number, ann.gender) == (
        "a1b2c1",
        "Ann Smith1",
        "9434765919",
        "F",
    )
    assert (str(ann.date_of_birth), ann.date_of_birth_estimated) == ("1950-04-02", False)
    assert (ann.ethnicity, ann.postcode) == ("A", "PO30 5TG")
    assert ann.extra["medical_history"]["smoking_status"] == "former"
    assert ann.extra["demographics"]["bmi"] == 27.4
    assert Patient.objects.get(uhid="10000002").ethnicity == "H"
    first = Episode.objects.get(legacy_episode_id="EPI-IW000001-01")
    assert (first.pk, first.patient_id) == (f"{0xE0001:024x}", "a1b2c1")
    assert first.extra["mdt_team"] == ["Dr Chen", "Dr Roberts"]
    assert first.extra["created_by"] == "sample_data_script"
    assert "cancer_site" in first.extra["cancer_data"]


def test_a_patient_without_a_name_imports_and_is_shown_as_such(db, tmp_path, migrate, no_key):
    nameless = data.patient(3)
    del nameless["demographics"]["first_name"], nameless["demographics"]["last_name"]
    code, _, _ = migrate(_files(tmp_path, [nameless], []))
    assert code == 0
    patient = Patient.objects.get()
    assert patient.name == ""
    assert str(patient) == "(no name recorded) MRN IW000003 (IW000003)"


def test_the_nameless_patient_reads_as_such_in_the_api(
    db, tmp_path, migrate, no_key, api_client_for, doctor
):
    nameless = data.patient(3)
    del nameless["demographics"]["first_name"], nameless["demographics"]["last_name"]
    migrate(_files(tmp_path, [nameless], []))
    body = api_client_for(doctor).get(f"/api/v1/patients/{nameless['patient_id']}/").json()
    assert body["name"] == "(no name recorded) MRN IW000003"


def test_a_patient_with_no_identifier_at_all_is_rejected(db, tmp_path, migrate, no_key):
    bare = data.patient(4, nhs=None)
    del bare["patient_id"], bare["record_number"]
    code, _, rejects = migrate(_files(tmp_path, [bare], []))
    assert code == 1 and "no patient_id, MRN" in rejects[0]["reason"]


def test_a_wrong_nhs_check_digit_is_not_stored_but_kept(db, tmp_path, migrate, no_key):
    code, _, _ = migrate(_files(tmp_path, [data.patient(5, nhs="943 476 5918")], []))
    patient = Patient.objects.get()
    assert code == 0 and patient.nhs_number is None
    assert patient.extra["nhs_number"] == "943 476 5918"


def test_the_model_checks_the_nhs_number():
    validate_nhs_number("9434765919")
    with pytest.raises(ValidationError):
        validate_nhs_number("9434765918")
    with pytest.raises(ValidationError):
        validate_nhs_number("943 476 5919")


def test_a_patient_registered_in_the_opd_is_matched_not_duplicated(db, tmp_path, migrate, no_key):
    opd = PatientFactory(uhid="IW000001", name="Ann Smith", phone="+441983000000")
    code, report, _ = migrate(_files(tmp_path, [data.patient(1)], [data.episode(1, "IW000001")]))
    assert code == 0 and Patient.objects.count() == 1
    opd.refresh_from_db()
    assert (opd.name, opd.phone, opd.nhs_number) == ("Ann Smith", "+441983000000", "9434765919")
    assert opd.extra["oncology"]["patient_id"] == "a1b2c1"
    assert by_file(report)["patients"]["warnings"][0]["kind"] == "matched_existing_patient"
    assert Episode.objects.get().patient_id == opd.pk
    code, report, _ = migrate(_files(tmp_path, [data.patient(1)], [data.episode(1, "IW000001")]))
    assert by_file(report)["patients"]["unchanged"] == 1


def test_encrypted_values_without_the_key_are_kept_and_counted(db, tmp_path, migrate, encrypted):
    doc = data.patient(6, encrypt=encrypted)
    code, report, _ = migrate(_files(tmp_path, [doc], []))
    patient = Patient.objects.get()
    assert code == 0
    assert (patient.uhid, patient.nhs_number, patient.name, patient.postcode) == (
        None,
        None,
        "",
        "",
    )
    assert patient.date_of_birth is None or patient.date_of_birth_estimated
    assert patient.extra["record_number"].startswith("ENC:")
    warning = by_file(report)["patients"]["warnings"][0]
    assert warning["kind"] == "encrypted_value_kept"
    assert set(warning["fields"]) >= {"record_number", "nhs_number", "demographics.postcode"}
    assert by_file(report)["patients"]["warning_counts"]["encrypted_value_kept"] == 1
    assert "ENC:" not in str(patient)


def test_encrypted_values_are_read_with_the_operators_key(db, tmp_path, migrate, encrypted):
    doc = data.patient(7, encrypt=encrypted)
    code, report, _ = migrate(
        _files(tmp_path, [doc], [data.episode(7, "IW000007")]),
        legacy_key=str(tmp_path / "key"),
        legacy_salt=str(tmp_path / "salt"),
    )
    assert code == 0
    patient = Patient.objects.get()
    assert (patient.uhid, patient.nhs_number, patient.name) == (
        "IW000007",
        "9434765919",
        "Ann Smith7",
    )
    assert (str(patient.date_of_birth), patient.postcode) == ("1950-04-08", "PO30 5TG")
    assert not by_file(report)["patients"]["warnings"]
    assert Episode.objects.get().patient_id == patient.pk


def test_an_episode_finds_a_merged_patient_by_nhs_number(db, tmp_path, migrate, no_key):
    opd = PatientFactory(uhid="MH/2024/0012", nhs_number="9434765919")
    episode = data.episode(1, "IW000001") | {"nhs_number": "943 476 5919"}
    code, _, rejects = migrate(_files(tmp_path, [data.patient(1)], [episode]))
    assert (code, rejects) == (0, [])
    opd.refresh_from_db()
    assert opd.uhid == "MH/2024/0012" and opd.extra["oncology"]["record_number"] == "IW000001"
    assert Episode.objects.get().patient_id == opd.pk


@pytest.mark.parametrize("mode", ["relaxed", "canonical"])
def test_importing_the_export_again_changes_nothing(db, tmp_path, migrate, no_key, mode):
    from django.core.management import call_command

    patients = [data.patient(1), data.patient(2, nhs="401 023 2137")]
    episodes = [data.episode(1, "IW000001"), data.episode(2, "10000002", nhs="4010232137")]
    assert migrate(_files(tmp_path, patients, episodes, mode))[0] == 0
    call_command("export_json", str(tmp_path / "out"), only="patients,episodes", verbosity=0)
    code, report, _ = migrate(tmp_path / "out")
    assert code == 0
    assert by_file(report)["patients"]["unchanged"] == 2
    assert by_file(report)["episodes"]["unchanged"] == 2
