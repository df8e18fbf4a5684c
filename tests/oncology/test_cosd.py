"""COSD colorectal export: selection, mapping, XML shape, checks and submission numbers."""

import itertools
from datetime import date, datetime, time

import pytest
from django.utils import timezone
from lxml import etree

from oncology import cosd as cosd_module
from oncology.cosd import (
    CosdChecksFailed,
    cosd_prepare,
    cosd_submit,
    nhs_number_is_valid,
    submission_path,
)
from oncology.cosd_checks import validate_structure
from oncology.cosd_xml import COSD_NAMESPACE
from oncology.models import CosdSubmission, Treatment, Tumour
from tests.factories import EpisodeFactory, PatientFactory, TreatmentFactory, TumourFactory

OCT_START, OCT_END = date(2024, 10, 1), date(2024, 10, 31)
_nhs_bases = itertools.count(943476591)


def valid_nhs_number() -> str:
    """A fresh NHS number with a correct modulus 11 check digit."""
    while True:
        base = str(next(_nhs_bases))
        check = 11 - sum(int(d) * w for d, w in zip(base, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            return base + str(0 if check == 11 else check)


def at(day: str) -> datetime:
    """Clinic-local midday on `day`, so no date slips across a time-zone boundary."""
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(12)))


def make_pathway(
    *,
    dob="1956-03-14",
    diagnosed="2024-10-03",
    icd10="C18.7",
    treatments=None,
    tumour=None,
    episode=None,
):
    """A realistic sigmoid-colon pathway: referral, diagnosis, staging, resection, chemo."""
    patient = PatientFactory(extra={"dob": dob} if dob else {})
    fields = {
        "nhs_number": valid_nhs_number(),
        "referral_date": at("2024-09-12"),
        "first_seen_date": at("2024-09-19"),
        **(episode or {}),
    }
    episode = EpisodeFactory(patient=patient, **fields)
    pathology = {"lymph_nodes_examined": 18, "lymph_nodes_positive": 2, "crm_status": "clear"}
    TumourFactory(
        **{
            "episode": episode,
            "icd10_code": icd10,
            "pathology": pathology,
            "diagnosis_date": at(diagnosed) if diagnosed else None,
            **(tumour or {}),
        }
    )
    if treatments is None:
        treatments = [
            {
                "treatment_type": "surgery",
                "treatment_date": at("2024-10-21"),
                "opcs4_code": "H08.1",
                "surgical_access_type": "laparoscopic",
                "surgical_urgency_type": "elective",
                "asa_grade": 2,
            },
            {
                "treatment_type": "chemotherapy",
                "treatment_date": at("2024-11-25"),
                "treatment_intent": "curative",
                "regimen": "CAPOX",
            },
        ]
    for position, fields in enumerate(treatments):
        TreatmentFactory(episode=episode, position=position, **fields)
    return episode


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.COSD_EXPORT_DIR = tmp_path / "cosd"
    settings.COSD_ORGANISATION_CODE = ""
    return settings.COSD_EXPORT_DIR


def parse(path):
    return etree.parse(str(path)).getroot()


@pytest.mark.django_db
def test_it_exports_one_record_per_colorectal_pathway_in_the_period():
    wanted = make_pathway()
    treated_in_period = make_pathway(
        diagnosed="2024-08-20",
        treatments=[
            {
                "treatment_type": "surgery",
                "treatment_date": at("2024-10-08"),
                "opcs4_code": "H33.3",
                "surgical_access_type": "open",
                "surgical_urgency_type": "urgent",
                "asa_grade": 3,
            }
        ],
    )
    make_pathway(icd10="C34.1")  # lung: not colorectal
    make_pathway(diagnosed="2024-11-02", treatments=[])  # after the period
    # A bowel episode without a primary is counted, and named, not left out.
    no_primary = make_pathway(tumour={"tumour_type": Tumour.Type.METASTASIS})
    make_pathway(episode={"episode_status": "cancelled"})

    export = cosd_prepare(period_start=OCT_START, period_end=OCT_END)

    assert sorted(r.episode_id for r in export.records) == sorted(
        [wanted.pk, treated_in_period.pk, no_primary.pk]
    )
    assert export.header.record_count == 3
    assert any(
        e.record == no_primary.pk and no_primary.pk in e.message for e in export.report.errors
    )


@pytest.mark.django_db
def test_submitted_xml_carries_namespace_header_and_mapped_items():
    episode = make_pathway()

    submission, _ = cosd_submit(period_start=OCT_START, period_end=OCT_END)

    path = submission_path(submission)
    assert path.name == "COSD_RGT_CO_20241001_20241031_000001.xml"
    assert validate_structure(str(path)) == []
    root = parse(path)
    assert root.tag == f"{{{COSD_NAMESPACE}}}COSD"
    assert root.find("Id").get("extension") == "1"
    assert root.find("OrgIdSubmitting").get("extension") == "RGT"
    assert root.findtext("RecordCount") == "1"
    assert root.findtext("ReportingPeriodStartDate") == "2024-10-01"
    assert root.findtext("ReportingPeriodEndDate") == "2024-10-31"
    record = root.find("COSDRecord/ColorectalRecord")
    assert record.find("LinkagePatientId/NhsNumber").get("extension") == episode.nhs_number
    assert record.findtext("LinkagePatientId/PersonBirthDate") == "1956-03-14"
    diagnosis = record.find("PrimaryPathway/LinkageDiagnosticDetails")
    assert diagnosis.find("PrimaryDiagnosisIcd").get("code") == "C187"
    assert diagnosis.findtext("DateOfPrimaryDiagnosisClinicallyAgreed") == "2024-10-03"
    assert record.find("PrimaryPathway/Diagnosis/MorphologySnomed").get("code") == "35917007"
    staging = record.find("PrimaryPathway/Staging")
    assert staging.find("TnmVersionNumber").get("code") == "8"
    assert [staging.findtext(f"{x}CategoryFinalPretreatment") for x in "TNM"] == ["3", "1", "0"]
    surgery, chemo = record.findall("Treatment")
    assert surgery.findtext("TreatmentStartDateCancer") == "2024-10-21"
    assert surgery.find("CancerTreatmentModality").get("code") == "01"
    assert surgery.find("CancerTreatmentIntent").get("code") == "C"
    assert surgery.find("ProviderTreatmentStartSiteCode").get("extension") == "RGT"
    assert surgery.find("Surgery/PrimaryProcedureOpcs").get("code") == "H081"
    assert surgery.find("Surgery/SurgicalAccessType").get("code") == "4"
    assert surgery.find("Surgery/SurgicalUrgencyType").get("code") == "4"
    assert surgery.find("Surgery/AsaScore").get("code") == "2"
    assert chemo.find("CancerTreatmentModality").get("code") == "02"
    assert chemo.find("Surgery") is None
    assert record.findtext("Pathology/NumberOfNodesExamined") == "18"
    assert record.findtext("Pathology/NumberOfNodesPositive") == "2"
    assert record.find("Pathology/ExcisionMarginCircumferential").get("code") == "07"


@pytest.mark.django_db
def test_a_record_without_date_of_birth_omits_it_and_counts_it_in_completeness():
    make_pathway()
    make_pathway(dob=None)

    export = cosd_prepare(period_start=OCT_START, period_end=OCT_END)

    birth = next(row for row in export.report.completeness if row["item"] == "birth_date")
    assert (birth["held"], birth["applicable"], birth["percent"]) == (1, 2, 50.0)
    assert [w.item for w in export.report.warnings] == ["birth_date"]
    assert export.report.errors == []


@pytest.mark.django_db
def test_each_submission_takes_the_next_number_and_validate_only_takes_none():
    make_pathway()

    cosd_prepare(period_start=OCT_START, period_end=OCT_END)
    assert not CosdSubmission.objects.exists()
    first, _ = cosd_submit(period_start=OCT_START, period_end=OCT_END)
    cosd_prepare(period_start=OCT_START, period_end=OCT_END)
    second, _ = cosd_submit(period_start=OCT_START, period_end=OCT_END)

    assert (first.number, second.number) == (1, 2)
    assert parse(submission_path(second)).find("Id").get("extension") == "2"
    assert CosdSubmission.objects.get(pk=2).record_count == 1


@pytest.mark.django_db
def test_missing_and_invalid_mandatory_items_block_the_submission():
    episode = make_pathway(
        icd10="C18.77",
        episode={"nhs_number": ""},
        treatments=[
            {
                "treatment_type": "surgery",
                "treatment_date": at("2024-10-21"),
                "opcs4_code": "",
                "surgical_access_type": "keyhole",
                "asa_grade": 2,
            }
        ],
    )

    with pytest.raises(CosdChecksFailed) as raised:
        cosd_submit(period_start=OCT_START, period_end=OCT_END)

    report = raised.value.export.report
    errors = {(issue.record, issue.item) for issue in report.errors}
    assert errors == {
        (episode.pk, "nhs_number"),
        (episode.pk, "icd10_code"),
        (episode.pk, "opcs4_code"),
    }
    warnings = {issue.item for issue in report.warnings}
    assert {"surgical_access_type", "surgical_urgency_type"} <= warnings
    assert not CosdSubmission.objects.exists()


@pytest.mark.django_db
def test_dates_out_of_order_and_impossible_node_counts_are_errors():
    episode = make_pathway(
        diagnosed="2024-10-20",
        episode={"referral_date": at("2024-10-25")},
        treatments=[
            {"treatment_type": "surgery", "treatment_date": at("2024-10-10"), "opcs4_code": "H081"}
        ],
        tumour={"pathology": {"lymph_nodes_examined": 4, "lymph_nodes_positive": 9}},
    )

    report = cosd_prepare(period_start=OCT_START, period_end=OCT_END).report

    messages = {issue.item: issue.message for issue in report.errors}
    assert set(messages) == {"referral_date", "start_date", "lymph_nodes_positive"}
    assert "after the diagnosis" in messages["referral_date"]
    assert "before the diagnosis" in messages["start_date"]
    assert all(issue.record == episode.pk for issue in report.errors)


@pytest.mark.django_db
def test_an_empty_period_is_an_error_not_an_empty_file():
    report = cosd_prepare(period_start=OCT_START, period_end=OCT_END).report

    assert [issue.item for issue in report.errors] == ["records", "organisation"]


@pytest.mark.django_db
def test_the_setting_names_the_submitting_organisation(settings):
    settings.COSD_ORGANISATION_CODE = "rbz"
    make_pathway()

    submission, export = cosd_submit(period_start=OCT_START, period_end=OCT_END)

    assert export.header.organisation == "RBZ"
    assert parse(submission_path(submission)).find("OrgIdSubmitting").get("extension") == "RBZ"


@pytest.mark.django_db
def test_treatment_types_map_through_the_table_to_cosd_modalities():
    types = ["radiotherapy", "hormone_therapy", "immunotherapy", "watch_and_wait", "other"]
    make_pathway(
        treatments=[
            {
                "treatment_type": kind,
                "treatment_date": at(f"2024-10-{10 + n}"),
                "treatment_intent": "palliative",
            }
            for n, kind in enumerate(types)
        ]
    )

    record = cosd_prepare(period_start=OCT_START, period_end=OCT_END).records[0]

    assert [t.items["treatment_modality"] for t in record.treatments] == [
        "05",
        "03",
        "15",
        "08",
        "97",
    ]
    assert {t.items["treatment_intent"] for t in record.treatments} == {"P"}
    assert Treatment.objects.count() == 5


def test_nhs_numbers_need_a_valid_check_digit():
    assert nhs_number_is_valid("9434765919")
    assert not nhs_number_is_valid("9434765918")
    assert not nhs_number_is_valid("943476591")


@pytest.mark.django_db
def test_a_number_taken_by_a_concurrent_export_is_not_reused(monkeypatch):
    make_pathway()
    CosdSubmission.objects.create(number=1, period_start=OCT_START, period_end=OCT_END)
    stale = iter([0])  # the first read misses the row another export just inserted
    real = cosd_module.highest_number
    monkeypatch.setattr(cosd_module, "highest_number", lambda: next(stale, None) or real())

    submission, _ = cosd_submit(period_start=OCT_START, period_end=OCT_END)

    assert submission.number == 2
    assert CosdSubmission.objects.count() == 2


@pytest.mark.django_db
def test_a_malformed_organisation_setting_blocks_the_submission(settings):
    settings.COSD_ORGANISATION_CODE = "R G T"
    make_pathway()

    report = cosd_prepare(period_start=OCT_START, period_end=OCT_END).report

    assert [(issue.item, issue.record) for issue in report.errors] == [("organisation", "")]
