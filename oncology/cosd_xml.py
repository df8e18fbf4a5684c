"""The COSD v10 XML: element structure per the COSD message, written one record at a time."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from lxml import etree

if TYPE_CHECKING:
    from oncology.cosd import CosdRecord, Header

COSD_NAMESPACE = getattr(
    settings, "COSD_XML_NAMESPACE", "http://www.datadictionary.nhs.uk/messages/COSD-v10-0"
)


def _text(value) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _section(parent, tag: str, fields: list[tuple[str, str | None, object]]):
    """Append <tag> with the fields that hold a value (as @attr or text); nothing if none do."""
    present = [(name, attr, value) for name, attr, value in fields if value not in (None, "")]
    if not present:
        return None
    node = etree.SubElement(parent, tag)
    for name, attr, value in present:
        child = etree.SubElement(node, name)
        if attr:
            child.set(attr, _text(value))
        else:
            child.text = _text(value)
    return node


def record_element(record: CosdRecord) -> etree._Element:
    i = record.items.get
    node = etree.Element("COSDRecord")
    etree.SubElement(node, "Id", root=record.record_id)
    body = etree.SubElement(node, "ColorectalRecord")
    _section(
        body,
        "LinkagePatientId",
        [
            ("NhsNumber", "extension", i("nhs_number")),
            ("LocalPatientId", "extension", i("local_patient_id")),
            ("PersonBirthDate", None, i("birth_date")),
        ],
    )
    _section(body, "Demographics", [("PersonStatedGenderCode", "code", i("gender"))])
    pathway = etree.SubElement(body, "PrimaryPathway")
    _section(
        pathway,
        "ReferralAndFirstStageOfPatientPathway",
        [
            ("CancerReferralToTreatmentPeriodStartDate", None, i("referral_date")),
            ("DateFirstSeen", None, i("first_seen_date")),
        ],
    )
    _section(
        pathway,
        "LinkageDiagnosticDetails",
        [
            ("PrimaryDiagnosisIcd", "code", i("icd10_code")),
            ("DateOfPrimaryDiagnosisClinicallyAgreed", None, i("diagnosis_date")),
        ],
    )
    _section(
        pathway,
        "Diagnosis",
        [
            ("MorphologyIcd-o-3", "code", i("morphology_icdo3")),
            ("MorphologySnomed", "code", i("morphology_snomed")),
        ],
    )
    _section(
        pathway,
        "Staging",
        [
            ("TnmVersionNumber", "code", i("tnm_version")),
            ("TCategoryFinalPretreatment", None, i("t_stage")),
            ("NCategoryFinalPretreatment", None, i("n_stage")),
            ("MCategoryFinalPretreatment", None, i("m_stage")),
        ],
    )
    if not len(pathway):
        body.remove(pathway)
    for treatment in record.treatments:
        _treatment_element(body, treatment)
    _section(
        body,
        "Pathology",
        [
            ("NumberOfNodesExamined", None, i("lymph_nodes_examined")),
            ("NumberOfNodesPositive", None, i("lymph_nodes_positive")),
            ("ExcisionMarginCircumferential", "code", i("crm_status")),
            ("GradeOfDifferentiation", "code", i("grade")),
        ],
    )
    return node


def _treatment_element(body, treatment: CosdRecord) -> None:
    t = treatment.items.get
    node = _section(
        body,
        "Treatment",
        [
            ("TreatmentStartDateCancer", None, t("start_date")),
            ("CancerTreatmentModality", "code", t("treatment_modality")),
            ("CancerTreatmentIntent", "code", t("treatment_intent")),
            ("ProviderTreatmentStartSiteCode", "extension", t("provider")),
        ],
    )
    if node is not None and t("surgery"):
        _section(
            node,
            "Surgery",
            [
                ("ProcedureDate", None, t("start_date")),
                ("PrimaryProcedureOpcs", "code", t("opcs4_code")),
                ("SurgicalAccessType", "code", t("surgical_access_type")),
                ("SurgicalUrgencyType", "code", t("surgical_urgency_type")),
                ("AsaScore", "code", t("asa_grade")),
            ],
        )


def write_xml(out, header: Header, cosd_records) -> None:
    """Stream the submission to the binary file `out`: header first, then one record at a time."""
    number = "" if header.number is None else str(header.number)
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{COSD_NAMESPACE}}}COSD", nsmap={"cosd": COSD_NAMESPACE}):
            head = etree.Element("Header")
            _section(
                head,
                "Header",
                [
                    ("Id", "extension", number),
                    ("OrgIdSubmitting", "extension", header.organisation),
                    ("RecordCount", None, header.record_count),
                    ("ReportingPeriodStartDate", None, header.period_start),
                    ("ReportingPeriodEndDate", None, header.period_end),
                    ("FileCreationDateTime", None, header.created_at),
                ],
            )
            for element in head[0]:
                xf.write(element)
            for record in cosd_records:
                xf.write(record_element(record))
