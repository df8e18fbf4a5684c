"""COSD from what the oncology system stores: its vocabulary, its nesting, its missing codes."""

import datetime as dt
import json

import pytest
from django.core.management import call_command

from legacy import split
from oncology.cosd import cosd_prepare
from oncology.models import Episode
from tests.legacy import surgdb_data as data


@pytest.fixture
def migrate(tmp_path):
    """`migrate(folder)` → (exit code, report, rejects), as in tests/legacy."""

    def run(folder):
        report = tmp_path / "report.json"
        try:
            call_command("migrate_json", str(folder), report=str(report), verbosity=0)
            code = 0
        except SystemExit as exc:
            code = exc.code
        rejects = (tmp_path / "report.rejects.jsonl").read_text().splitlines()
        return code, json.loads(report.read_text()), [json.loads(r) for r in rejects]

    return run


START, END = dt.date(2025, 1, 1), dt.date(2025, 2, 28)


@pytest.fixture
def imported(db, tmp_path, migrate):
    def run(*episodes, mode="canonical"):
        folder = tmp_path / "in"
        folder.mkdir(exist_ok=True)
        data.write(
            folder / "patients.json", [data.patient(1), data.patient(2, nhs=None)], "relaxed"
        )
        data.write(folder / "episodes.json", list(episodes), mode)
        code, _, rejects = migrate(folder)
        assert (code, rejects) == (0, [])
        assert split.episodes_split_all().error_count == 0
        return cosd_prepare(period_start=START, period_end=END)

    return run


def _items(export, episode_pk):
    return next(r for r in export.records if r.episode_id == episode_pk)


@pytest.mark.parametrize("mode", ["relaxed", "canonical"])
def test_its_vocabulary_and_nesting_fill_the_cosd_items(imported, mode):
    export = imported(data.episode(1, "IW000001"), mode=mode)
    (record,) = export.records
    i = record.items
    assert (i["icd10_code"], i["birth_date"]) == ("C20X", dt.date(1950, 4, 2))
    assert (i["tnm_version"], i["t_stage"], i["n_stage"], i["m_stage"]) == ("8", "3", "1", "0")
    assert (i["morphology_snomed"], i["morphology_icdo3"]) == ("35917007", "8140/3")
    assert (i["lymph_nodes_examined"], i["lymph_nodes_positive"]) == (14, 1)
    assert (i["crm_status"], i["grade"]) == ("07", "G2")
    (surgery,) = record.treatments
    t = surgery.items
    assert (t["treatment_modality"], t["treatment_intent"], t["surgery"]) == ("01", "C", True)
    assert (t["opcs4_code"], t["asa_grade"]) == ("H333", "2")
    assert (t["surgical_access_type"], t["surgical_urgency_type"]) == ("4", "4")
    assert not [e for e in export.report.errors if e.record == record.episode_id]
    assert any("derived from the site 'rectum'" in w.message for w in export.report.warnings)


def test_flat_approach_and_urgency_and_neoadjuvant_intent(imported):
    doc = data.episode(1, "IW000001")
    surgery = doc["treatments"][0]
    del surgery["classification"]
    surgery |= {"approach": "robotic", "urgency": "urgent", "treatment_intent": "neoadjuvant"}
    doc["tumours"][0] |= {"site": "sigmoid_colon"}
    (record,) = imported(doc).records
    t = record.treatments[0].items
    assert (t["surgical_access_type"], t["surgical_urgency_type"]) == ("5", "2")
    assert t["treatment_intent"] == "C" and record.items["icd10_code"] == "C187"


def test_staging_under_cancer_data_is_read(imported):
    doc = data.episode(1, "IW000001")
    for name in ("clinical_t", "clinical_n", "clinical_m", "tnm_version"):
        del doc["tumours"][0][name]
    doc["cancer_data"]["tnm_staging"] = {
        "clinical_t": "T4a",
        "clinical_n": "N0",
        "clinical_m": "M1",
    }
    (record,) = imported(doc).records
    assert (record.items["t_stage"], record.items["n_stage"], record.items["m_stage"]) == (
        "4a",
        "0",
        "1",
    )


def test_a_site_that_names_no_code_is_an_error_naming_the_episode(imported):
    doc = data.episode(1, "IW000001")
    doc["tumours"][0]["site"] = "other"
    export = imported(doc, data.episode(2, "IW000001"))
    pk = Episode.objects.get(legacy_episode_id="EPI-IW000001-01").pk
    assert export.header.record_count == 2
    (error,) = [e for e in export.report.errors if e.item == "icd10_code"]
    assert error.record == pk and pk in error.message and "'other'" in error.message


def test_every_bowel_episode_in_the_period_is_counted(imported):
    docs = [data.episode(n, "IW000001") for n in range(1, 6)]
    docs[4]["tumours"][0]["diagnosis_date"] = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    docs[4]["treatments"] = []  # diagnosed and treated outside the period
    export = imported(*docs)
    assert export.header.record_count == 4 == export.report.record_count
