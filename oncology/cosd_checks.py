"""Pre-submission checks for a COSD colorectal export: our own XSD-like rules.

The official COSD XSD is licence-restricted, so these rules stand in for it: mandatory items
per record, values within code lists, dates in order (referral <= diagnosis <= treatment) and a
completeness report (% of applicable records holding each item). Errors block a submission;
warnings do not. `validate_structure` checks a written file against our own small XSD.
"""

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from django.utils import timezone
from lxml import etree

ERROR, WARNING = "error", "warning"
ODS_CODE = re.compile(r"^[A-Z0-9]{3,9}$")
XSD_PATH = Path(__file__).with_name("cosd") / "colorectal-structure.xsd"


@dataclass(frozen=True)
class Item:
    """A data item we export: where it applies and how bad its absence is (None: optional)."""

    name: str
    label: str
    cosd: str
    applies: str  # record | treatment | surgery | resection (records with a surgery)
    missing: str | None


ITEMS = [
    Item("nhs_number", "NHS number", "CR0010", "record", ERROR),
    Item("birth_date", "Date of birth", "CR0100", "record", WARNING),
    Item("gender", "Person stated gender", "CR3170", "record", None),
    Item("referral_date", "Referral date", "", "record", WARNING),
    Item("first_seen_date", "Date first seen", "", "record", None),
    Item("diagnosis_date", "Date of primary diagnosis", "CR2030", "record", ERROR),
    Item("icd10_code", "Primary diagnosis (ICD-10)", "CR0370", "record", ERROR),
    Item("morphology_snomed", "Morphology (SNOMED)", "CR6400", "record", WARNING),
    Item("tnm_version", "TNM version", "CR2070", "record", WARNING),
    Item("t_stage", "T category (final pretreatment)", "CR0520", "record", WARNING),
    Item("n_stage", "N category (final pretreatment)", "CR0540", "record", WARNING),
    Item("m_stage", "M category (final pretreatment)", "CR0560", "record", WARNING),
    Item("start_date", "Treatment start date", "CR1370", "treatment", ERROR),
    Item("treatment_modality", "Cancer treatment modality", "CR2040", "treatment", ERROR),
    Item("treatment_intent", "Cancer treatment intent", "CR0680", "treatment", WARNING),
    Item("provider", "Provider of treatment (ODS code)", "CR1450", "treatment", ERROR),
    Item("opcs4_code", "Primary procedure (OPCS-4)", "CR0720", "surgery", ERROR),
    Item("surgical_access_type", "Surgical access type", "CR6310", "surgery", WARNING),
    Item("surgical_urgency_type", "Surgical urgency", "", "surgery", WARNING),
    Item("asa_grade", "ASA grade", "CR6010", "surgery", WARNING),
    Item("lymph_nodes_examined", "Nodes examined", "pCR0890", "resection", WARNING),
    Item("lymph_nodes_positive", "Nodes positive", "pCR0900", "resection", WARNING),
    Item("crm_status", "Circumferential resection margin", "pCR1150", "resection", WARNING),
    Item("grade", "Grade of differentiation", "pCR0860", "resection", None),
]


@dataclass
class Issue:
    severity: str
    record: str
    patient: str
    item: str
    message: str


@dataclass
class CheckReport:
    record_count: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    completeness: list[dict] = field(default_factory=list)

    def add(self, severity: str, record, item: str, message: str) -> None:
        issue = Issue(
            severity,
            record.episode_id if record else "",
            getattr(record, "patient_id", ""),
            item,
            message,
        )
        (self.errors if severity == ERROR else self.warnings).append(issue)

    def as_dict(self) -> dict:
        return {
            "record_count": self.record_count,
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "errors": [asdict(issue) for issue in self.errors],
            "warnings": [asdict(issue) for issue in self.warnings],
            "completeness": self.completeness,
        }


def check_export(header, cosd_records: list) -> CheckReport:
    report = CheckReport(record_count=len(cosd_records))
    if not cosd_records:
        report.add(
            ERROR,
            None,
            "records",
            "No colorectal pathway falls in this period; a COSD file needs at least one record.",
        )
    if not header.organisation:
        report.add(
            ERROR,
            None,
            "organisation",
            "No submitting organisation: set "
            "COSD_ORGANISATION_CODE or record the provider on the treatments.",
        )
    elif not ODS_CODE.match(header.organisation):
        report.add(
            ERROR,
            None,
            "organisation",
            f"'{header.organisation}' is not an ODS code "
            "(3 to 9 letters and digits); check COSD_ORGANISATION_CODE.",
        )
    held = {item.name: [0, 0] for item in ITEMS}
    for record in cosd_records:
        for item, message in record.errors:
            report.add(ERROR, record, item, message)
        for item, message in record.notes:
            report.add(WARNING, record, item, message)
        _check_items(report, record, held)
        _check_dates(report, record)
        _check_counts(report, record)
    report.completeness = [
        {
            "item": item.name,
            "label": item.label,
            "cosd": item.cosd,
            "held": held[item.name][0],
            "applicable": held[item.name][1],
            "percent": round(100 * held[item.name][0] / held[item.name][1], 1)
            if held[item.name][1]
            else None,
        }
        for item in ITEMS
    ]
    return report


def _targets(item: Item, record) -> list:
    """The records or treatments an item applies to within one pathway."""
    surgeries = [t for t in record.treatments if t.items.get("surgery")]
    return {
        "record": [record],
        "treatment": record.treatments,
        "surgery": surgeries,
        "resection": [record] if surgeries else [],
    }[item.applies]


def _check_items(report: CheckReport, record, held: dict) -> None:
    for item in ITEMS:
        targets = _targets(item, record)
        if not targets:
            continue
        held[item.name][1] += 1
        if all(t.items.get(item.name) not in (None, "") for t in targets):
            held[item.name][0] += 1
        for target in targets:
            where = "" if target is record else f" (treatment {target.episode_id})"
            if item.name in target.invalid:
                severity = ERROR if item.missing == ERROR else WARNING
                report.add(
                    severity,
                    record,
                    item.name,
                    f"{item.label}{where}: "
                    f"'{target.invalid[item.name]}' is not a valid COSD value.",
                )
            elif any(name == item.name for name, _ in target.errors):
                continue  # said in words of its own above
            elif target.items.get(item.name) in (None, "") and item.missing:
                report.add(item.missing, record, item.name, f"{item.label}{where} is missing.")


def _check_dates(report: CheckReport, record) -> None:
    referral = record.items.get("referral_date")
    diagnosis = record.items.get("diagnosis_date")
    birth = record.items.get("birth_date")
    today = timezone.localdate()
    if referral and diagnosis and referral > diagnosis:
        report.add(
            ERROR,
            record,
            "referral_date",
            f"Referral ({referral}) is after the diagnosis ({diagnosis}).",
        )
    if diagnosis and diagnosis > today:
        report.add(ERROR, record, "diagnosis_date", f"Diagnosis date {diagnosis} is in the future.")
    if birth and diagnosis and birth > diagnosis:
        report.add(ERROR, record, "birth_date", f"Date of birth {birth} is after the diagnosis.")
    for treatment in record.treatments:
        start: date | None = treatment.items.get("start_date")
        earlier = diagnosis or referral
        if start and earlier and start < earlier:
            what = "diagnosis" if diagnosis else "referral"
            report.add(
                ERROR,
                record,
                "start_date",
                f"Treatment {treatment.episode_id} starts ({start}) before the {what} ({earlier}).",
            )


def _check_counts(report: CheckReport, record) -> None:
    examined = record.items.get("lymph_nodes_examined")
    positive = record.items.get("lymph_nodes_positive")
    if examined is not None and positive is not None and positive > examined:
        report.add(
            ERROR,
            record,
            "lymph_nodes_positive",
            f"More nodes positive ({positive}) than examined ({examined}).",
        )


def validate_structure(source) -> list[str]:
    """Validate an XML file (path or file object) against our structural XSD; [] when valid."""
    schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
    document = etree.parse(source)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]
