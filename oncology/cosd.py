"""COSD v10 colorectal export: which pathways fall in a period, their items as COSD codes, the XML.

`MAPPING` below is the one table from stored values to COSD code lists; docs/cosd-mapping.md
lists it with its sources and says which element names and codes are our own choice (the
official XSD is licence-restricted). Reads are one query per source per batch of pathways;
the XML is written element by element, so a submission of thousands of records streams.
"""

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from clinic.db import atomic
from oncology import cosd_sources as src
from oncology.cosd_checks import CheckReport, check_export
from oncology.cosd_xml import write_xml
from oncology.models import CosdSubmission, Episode, Treatment, Tumour
from patients.models import nhs_number_is_valid

COLORECTAL_ICD10 = ("C18", "C19", "C20")
BATCH = 500
# Record IDs are UUIDs derived from the episode, so a pathway keeps its ID in every submission.
RECORD_ID_NAMESPACE = uuid.UUID("6f1d3c2a-6c43-5d1e-9a57-3c0e2f8b9d41")

# stored value (lower case, "_" for blanks and dashes) -> COSD code, one dict per coded item.
# fmt: off
MAPPING: dict[str, dict[str, str]] = {
    "gender": {"m": "1", "male": "1", "f": "2", "female": "2", "o": "9", "other": "9"},
    "treatment_intent": {
        "curative": "C", "neoadjuvant": "C", "adjuvant": "C", "palliative": "P", "unknown": "9",
    },
    "treatment_modality": {
        "surgery": "01", "chemotherapy": "02", "hormone_therapy": "03", "radiotherapy": "05",
        "palliative": "07", "watch_and_wait": "08", "surveillance": "08",
        "targeted_therapy": "14", "immunotherapy": "15", "other": "97",
    },
    "surgical_access_type": {
        "open": "1", "laparoscopic_converted_planned": "2", "laparoscopic_converted": "3",
        "laparoscopic_converted_to_open": "3", "converted": "3", "converted_to_open": "3",
        "laparoscopic": "4", "laparoscopic_assisted": "4", "robotic": "5",
        "robotic_assisted": "5", "not_applicable": "Z",
    },
    "surgical_urgency_type": {
        "emergency": "1", "immediate": "1", "urgent": "2", "expedited": "3", "elective": "4",
    },
    "asa_grade": {str(grade): str(grade) for grade in range(1, 7)},
    "crm_status": {
        "clear": "07", "close": "08", "involved": "05", "uncertain": "06",
        "not_applicable": "98", "unknown": "99",
    },
    "tnm_version": {"7": "7", "8": "8"},
    # GRADE OF DIFFERENTIATION (NHS Data Dictionary): G1 well … G4 undifferentiated, GX.
    "grade": {
        "well": "G1", "g1": "G1", "moderate": "G2", "g2": "G2", "poor": "G3", "g3": "G3",
        "undifferentiated": "G4", "g4": "G4", "gx": "GX", "not_assessable": "GX",
    },
    # ICD-O-3 morphology -> SNOMED CT morphologic abnormality (only codes we have verified).
    "morphology_snomed": {"8140/3": "35917007", "8480/3": "72495009", "8490/3": "87737001"},
}
TNM_CATEGORIES = {
    "t_stage": {"X", "0", "is", "1", "2", "3", "4", "4a", "4b"},
    "n_stage": {"X", "0", "1", "1a", "1b", "1c", "2", "2a", "2b"},
    "m_stage": {"X", "0", "1", "1a", "1b", "1c"},
}
# fmt: on
ICD10_COLORECTAL = re.compile(r"^C(18[0-9]|19X|20X)$")
OPCS4 = re.compile(r"^[A-Z][0-9]{3}$")
ODS = re.compile(r"^[A-Z0-9]{3,9}$")
NHS_NUMBER = re.compile(r"^[0-9]{10}$")
ICDO3 = re.compile(r"^[0-9]{4}/[0-9]$")
SNOMED_ID = re.compile(r"^[0-9]{6,18}$")


@dataclass
class CosdRecord:
    """One patient pathway (an episode with a colorectal primary), its items as COSD codes.

    `items` holds the coded values (None when not held); `invalid` the stored values that are
    present but fit no code list, by item name. Treatments carry their own items and invalid.
    """

    episode_id: str
    patient_id: str
    items: dict[str, object] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    treatments: list["CosdRecord"] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (item, message) that block
    notes: list[tuple[str, str]] = field(default_factory=list)  # (item, message) to warn

    @property
    def record_id(self) -> str:
        return str(uuid.uuid5(RECORD_ID_NAMESPACE, self.episode_id))


@dataclass
class Header:
    number: int | None
    organisation: str
    period_start: date
    period_end: date
    created_at: datetime
    record_count: int


def _key(value) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().lower())


def coded(record: CosdRecord, item: str, stored, table: str | None = None) -> None:
    """Put `stored` mapped through MAPPING[table or item] into the record, or note it invalid."""
    if stored in (None, ""):
        record.items[item] = None
        return
    code = MAPPING[table or item].get(_key(stored))
    record.items[item] = code
    if code is None:
        record.invalid[item] = str(stored)


def formatted(record: CosdRecord, item: str, stored, normalise, pattern: re.Pattern) -> None:
    """Put a normalised free-format code (ICD-10, OPCS-4, ODS, NHS number) into the record."""
    if stored in (None, ""):
        record.items[item] = None
        return
    value = normalise(str(stored))
    ok = bool(pattern.match(value))
    record.items[item] = value if ok else None
    if not ok:
        record.invalid[item] = str(stored)


def icd10(value: str) -> str:
    """`C18.7` -> `C187`; three-character codes take the `X` filler NHS data sets use (`C20X`)."""
    code = value.strip().upper().replace(".", "")
    return code + "X" if len(code) == 3 else code


def opcs4(value: str) -> str:
    return value.strip().upper().replace(".", "")


def nhs_number(value: str) -> str:
    digits = re.sub(r"[\s\-]", "", value)
    return digits if nhs_number_is_valid(digits) else ""


def local_date(value) -> date | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return value
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def tnm_category(value, letter: str) -> str:
    """`T3`, `pT4a`, `ycN1` or `3` -> `3`, `4a`, `1`; COSD carries the category without prefix."""
    text = str(value).strip()
    return re.sub(rf"^[cpyra]*{letter}", "", text, flags=re.IGNORECASE)


def _colorectal_primary(prefix: str = "") -> Q:
    sites = Q()
    for site in COLORECTAL_ICD10:
        sites |= Q(**{f"{prefix}icd10_code__istartswith": site})
    return Q(**{f"{prefix}tumour_type": Tumour.Type.PRIMARY}) & sites


def _bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(period_start, time.min), zone)
    end = timezone.make_aware(datetime.combine(period_end + timedelta(days=1), time.min), zone)
    return start, end


def pathway_ids(period_start: date, period_end: date) -> list[str]:
    """Colorectal episodes with a primary diagnosed, or any treatment given, in the period.

    Colorectal: a primary whose ICD-10 code (or, without one, its site) is C18–C20, or an
    episode of a bowel cancer type; a bowel episode whose primary says neither is kept, so
    the checks name it instead of leaving it out."""
    start, end = _bounds(period_start, period_end)
    diagnosed = Tumour.objects.filter(
        _colorectal_primary() | Q(tumour_type=Tumour.Type.PRIMARY, icd10_code=""),
        diagnosis_date__gte=start,
        diagnosis_date__lt=end,
    )
    ids = set(diagnosed.values_list("episode_id", flat=True))
    treated = Treatment.objects.filter(treatment_date__gte=start, treatment_date__lt=end)
    ids |= set(treated.values_list("episode_id", flat=True))
    live = []
    for batch in _batches(sorted(ids)):
        primaries = {}
        for tumour in Tumour.objects.filter(tumour_type=Tumour.Type.PRIMARY, episode_id__in=batch):
            primaries.setdefault(tumour.episode_id, []).append(tumour)
        episodes = Episode.objects.filter(pk__in=batch).exclude(
            episode_status=Episode.Status.CANCELLED
        )
        for pk, cancer_type in episodes.values_list("id", "cancer_type"):
            held = primaries.get(pk, [])
            if any(src.is_colorectal(t) for t in held):
                live.append(pk)
            elif src.key(cancer_type or "") in src.COLORECTAL_CANCER_TYPES and not any(
                src.icd10(t)[0] for t in held
            ):  # a bowel episode whose primary names no other cancer
                live.append(pk)
    return sorted(live)


def _batches(ids: list[str]):
    """Slices small enough for any backend's limit on query parameters."""
    for offset in range(0, len(ids), BATCH):
        yield ids[offset : offset + BATCH]


def records(episode_ids: list[str]):
    """Yield a CosdRecord per episode, reading patients, tumours and treatments per batch."""
    for batch in _batches(episode_ids):
        episodes = Episode.objects.filter(pk__in=batch).select_related("patient").order_by("id")
        tumours, treatments = {}, {}
        for tumour in Tumour.objects.filter(tumour_type=Tumour.Type.PRIMARY, episode_id__in=batch):
            tumours.setdefault(tumour.episode_id, []).append(tumour)
        for treatment in Treatment.objects.filter(episode_id__in=batch):
            treatments.setdefault(treatment.episode_id, []).append(treatment)
        for episode in episodes:
            yield build_record(episode, tumours.get(episode.id, []), treatments.get(episode.id, []))


def build_record(
    episode: Episode, tumours: list[Tumour], treatments: list[Treatment]
) -> CosdRecord:
    patient = episode.patient
    record = CosdRecord(episode_id=episode.id, patient_id=patient.pk)
    stored_nhs = episode.nhs_number or (patient.extra or {}).get("nhs_number")
    formatted(record, "nhs_number", stored_nhs, nhs_number, NHS_NUMBER)
    record.items["local_patient_id"] = episode.mrn or patient.uhid or patient.pk
    record.items["birth_date"], bad_dob = src.birth_date(patient)
    if bad_dob:
        record.invalid["birth_date"] = bad_dob
    coded(record, "gender", patient.gender)
    record.items["referral_date"] = local_date(episode.referral_date)
    record.items["first_seen_date"] = local_date(episode.first_seen_date)
    colorectal = [t for t in tumours if src.is_colorectal(t)] or tumours
    dated = sorted(
        colorectal,
        key=lambda t: (src.diagnosis_date(t, episode) is None, _sort_date(t, episode), t.position),
    )
    if dated:
        _tumour_items(record, dated[0], episode)
    else:
        record.errors.append(
            ("icd10_code", f"Episode {episode.id} has no primary tumour recorded: add it (site "
             "or ICD-10 code) or correct the episode's cancer type.")
        )  # fmt: skip
    for treatment in sorted(treatments, key=lambda t: (t.treatment_date is None, t.treatment_date)):
        record.treatments.append(_treatment(treatment))
    return record


def _sort_date(tumour: Tumour, episode: Episode):
    moment = src.diagnosis_date(tumour, episode)
    return local_date(moment) if moment is not None else date.max


def _tumour_items(record: CosdRecord, tumour: Tumour, episode: Episode) -> None:
    record.items["diagnosis_date"] = local_date(src.diagnosis_date(tumour, episode))
    code, derived = src.icd10(tumour)
    formatted(record, "icd10_code", code, icd10, ICD10_COLORECTAL)
    if derived:
        record.notes.append(
            ("icd10_code", f"ICD-10 {record.items['icd10_code']} derived from the site "
             f"'{src.site(tumour)}' (episode {episode.id}).")
        )  # fmt: skip
    elif code is None:
        record.errors.append(
            ("icd10_code", f"Episode {episode.id}: the primary tumour has no ICD-10 code and "
             f"its site '{src.site(tumour) or 'not recorded'}' does not name one; record it.")
        )  # fmt: skip
    morphology = src.morphology(tumour)
    record.items["morphology_icdo3"] = morphology if ICDO3.match(morphology) else None
    snomed = (
        morphology if SNOMED_ID.match(morphology) else MAPPING["morphology_snomed"].get(morphology)
    )
    record.items["morphology_snomed"] = snomed
    if morphology and not snomed:
        record.invalid["morphology_snomed"] = morphology
    staging = src.staging(tumour, episode)
    version = re.sub(r"[^0-9]", "", str(staging.get("tnm_version") or ""))
    coded(record, "tnm_version", version or None)
    for item, letter in (("t_stage", "T"), ("n_stage", "N"), ("m_stage", "M")):
        stored = staging.get(item)
        value = tnm_category(stored, letter) if stored not in (None, "") else None
        if value and value.lower() in {"x", "is"}:
            value = "X" if value.lower() == "x" else "is"
        ok = value is None or value in TNM_CATEGORIES[item]
        record.items[item] = value if ok else None
        if not ok:
            record.invalid[item] = str(stored)
    for item in ("lymph_nodes_examined", "lymph_nodes_positive"):
        record.items[item] = _count(record, item, src.pathology(tumour, item))
    coded(record, "crm_status", src.pathology(tumour, "crm_status"))
    coded(
        record,
        "grade",
        src.pathology(tumour, "grade") or src.first(tumour.extra, "differentiation"),
    )


def _count(record: CosdRecord, item: str, stored) -> int | None:
    if stored in (None, ""):
        return None
    try:
        value = int(stored)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        record.invalid[item] = str(stored)
        return None
    return value


def _treatment(treatment: Treatment) -> CosdRecord:
    item = CosdRecord(episode_id=treatment.id, patient_id=treatment.patient_id)
    item.items["start_date"] = local_date(treatment.treatment_date)
    kind = src.treatment_type(treatment)
    coded(item, "treatment_modality", kind or None)
    coded(
        item,
        "treatment_intent",
        treatment.treatment_intent or src.first(treatment.extra, "treatment_intent"),
    )
    formatted(item, "provider", treatment.provider_organisation, lambda v: v.strip().upper(), ODS)
    item.items["surgery"] = kind == Treatment.Type.SURGERY
    if item.items["surgery"]:
        formatted(item, "opcs4_code", src.opcs(treatment), opcs4, OPCS4)
        coded(item, "surgical_access_type", src.access(treatment))
        coded(item, "surgical_urgency_type", src.urgency(treatment))
        coded(item, "asa_grade", src.asa(treatment))
    return item


def submitting_organisation(cosd_records: list[CosdRecord]) -> str:
    """The setting, else the provider most treatments in the submission name, else ''."""
    configured = getattr(settings, "COSD_ORGANISATION_CODE", "")
    if configured:
        return configured.strip().upper()
    providers = Counter(
        t.items["provider"] for r in cosd_records for t in r.treatments if t.items.get("provider")
    )
    return providers.most_common(1)[0][0] if providers else ""


def filename(header: Header) -> str:
    """Our own naming (the technical guidance's pattern is not public): see docs/cosd-mapping.md."""
    number = f"{header.number:06d}" if header.number is not None else "PREVIEW"
    return (
        f"COSD_{header.organisation or 'XXXXX'}_CO_{header.period_start:%Y%m%d}_"
        f"{header.period_end:%Y%m%d}_{number}.xml"
    )


@dataclass
class CosdExport:
    header: Header
    records: list[CosdRecord]
    report: CheckReport


class CosdChecksFailed(Exception):
    """Errors in the pre-submission checks block the submission; warnings do not."""

    def __init__(self, export: CosdExport):
        self.export = export
        super().__init__(f"{len(export.report.errors)} error(s) block this COSD submission.")


def cosd_prepare(*, period_start: date, period_end: date) -> CosdExport:
    """Select, map and check a period's colorectal pathways; writes nothing, allocates nothing."""
    if period_end < period_start:
        raise ValidationError({"to": ["The period must end on or after its start."]})
    cosd_records = list(records(pathway_ids(period_start, period_end)))
    header = Header(
        number=None,
        organisation=submitting_organisation(cosd_records),
        period_start=period_start,
        period_end=period_end,
        created_at=timezone.localtime().replace(microsecond=0),
        record_count=len(cosd_records),
    )
    return CosdExport(
        header=header, records=cosd_records, report=check_export(header, cosd_records)
    )


def export_dir() -> Path:
    return Path(getattr(settings, "COSD_EXPORT_DIR", settings.BASE_DIR / "var" / "cosd"))


def cosd_submit(
    *, period_start: date, period_end: date, by=None
) -> tuple[CosdSubmission, CosdExport]:
    """Check, take the next submission number and write the XML file; raise CosdChecksFailed."""
    export = cosd_prepare(period_start=period_start, period_end=period_end)
    if export.report.errors:
        raise CosdChecksFailed(export)
    submission = _allocate(
        period_start=period_start,
        period_end=period_end,
        created_by=by,
        record_count=export.header.record_count,
    )
    export.header.number = submission.number
    name = filename(export.header)
    path = export_dir() / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with open(partial, "wb") as out:
            write_xml(out, export.header, export.records)
        partial.replace(path)
    except OSError:
        # Nothing left the building: give the number back so the sequence has no gap.
        CosdSubmission.objects.filter(pk=submission.number).delete()
        raise
    CosdSubmission.objects.filter(pk=submission.number).update(filename=name)
    submission.filename = name
    return submission, export


def _allocate(attempts: int = 5, **fields) -> CosdSubmission:
    """Next number = highest + 1; the primary key settles two exports racing for the same one."""
    for attempt in range(attempts):
        try:
            with atomic():
                return CosdSubmission.objects.create(number=highest_number() + 1, **fields)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def highest_number() -> int:
    last = CosdSubmission.objects.order_by("-number").values_list("number", flat=True).first()
    return last or 0


def submission_path(submission: CosdSubmission) -> Path | None:
    path = export_dir() / submission.filename if submission.filename else None
    return path if path and path.is_file() else None
