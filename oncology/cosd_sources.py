"""Where each COSD item is found in what the oncology system (surg-db) stored.

Its items reach us split into Treatment/Tumour records whose typed columns hold our names;
its own names stay in `extra` as written (Extended JSON numbers and dates included): flat
(`asa_score`, `approach`, `urgency`, `clinical_t`, `snomed_morphology`, `lymph_nodes_*`,
`crm_status`, `grade`), or nested (`classification.urgency`, `procedure.approach`,
`procedure.opcs_codes[]`, `pathology.*`, the episode's `cancer_data.tnm_staging`). Each
reader returns the first value held, in the order docs/cosd-mapping.md lists.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

# ICD-10 for the sites that name one code (surg-db backend/app/models/tumour.py TumourSite,
# whose comments give the same codes); "colon" alone is ICD-10's "colon, unspecified".
SITE_ICD10 = {
    "caecum": "C18.0", "cecum": "C18.0", "appendix": "C18.1", "ascending_colon": "C18.2",
    "hepatic_flexure": "C18.3", "transverse_colon": "C18.4", "splenic_flexure": "C18.5",
    "descending_colon": "C18.6", "sigmoid_colon": "C18.7", "sigmoid": "C18.7",
    "colon_unspecified": "C18.9", "colon": "C18.9", "rectosigmoid_junction": "C19",
    "rectosigmoid": "C19", "rectum": "C20", "rectal": "C20",
}  # fmt: skip
COLORECTAL_CANCER_TYPES = {"bowel", "colorectal", "colon", "rectal"}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}


def value(raw):
    """A stored value without its Extended JSON wrapper (`{"$numberInt": "3"}` → 3)."""
    if isinstance(raw, dict) and len(raw) == 1:
        ((key, inner),) = raw.items()
        if key in {"$numberInt", "$numberLong"}:
            return int(inner)
        if key in {"$numberDouble", "$numberDecimal"}:
            return float(inner)
        if key == "$date":
            inner = value(inner)
            if isinstance(inner, int):
                return datetime.fromtimestamp(inner / 1000, UTC)
            return inner
    return raw


def first(source: dict | None, *paths: str):
    """The first non-empty value at any of the dotted `paths` of `source`."""
    for path in paths:
        node = source or {}
        for part in path.split("."):
            node = value(node.get(part)) if isinstance(node, dict) else None
        if isinstance(node, list):
            node = value(node[0]) if node else None
        if node not in (None, "", {}):
            return node
    return None


def key(raw) -> str:
    return re.sub(r"[\s\-]+", "_", str(raw).strip().lower())


# --- treatments -------------------------------------------------------------------------------


def treatment_type(treatment) -> str:
    """Our type: surg-db's `surgery_primary`, `surgery_rtt`, `surgery_reversal` are surgery."""
    stored = key(treatment.treatment_type or first(treatment.extra, "treatment_type") or "")
    return "surgery" if stored.startswith("surgery") else stored


def asa(treatment):
    if treatment.asa_grade is not None:
        return treatment.asa_grade
    stored = first(treatment.extra, "asa_score", "asa_grade", "classification.asa_score")
    if stored in (None, ""):
        return None
    text = re.sub(r"^asa\s*", "", str(stored).strip(), flags=re.IGNORECASE).lower()
    return _ROMAN.get(text, text)


def access(treatment):
    return treatment.surgical_access_type or first(
        treatment.extra, "surgical_access_type", "approach", "classification.approach",
        "procedure.approach",
    )  # fmt: skip


def urgency(treatment):
    return treatment.surgical_urgency_type or first(
        treatment.extra, "surgical_urgency_type", "urgency", "classification.urgency",
        "procedure.urgency",
    )  # fmt: skip


def opcs(treatment):
    return treatment.opcs4_code or first(
        treatment.extra, "opcs4_code", "opcs_codes", "procedure.opcs_codes", "procedure.opcs4_code"
    )


# --- tumours ----------------------------------------------------------------------------------


def icd10(tumour) -> tuple[str | None, bool]:
    """(ICD-10 code, derived from the site?); (None, False) when neither tells."""
    if tumour.icd10_code:
        return tumour.icd10_code, False
    stored = first(tumour.extra, "icd10_code")
    if stored:
        return str(stored), False
    derived = SITE_ICD10.get(key(site(tumour) or ""))
    return derived, derived is not None


def site(tumour) -> str:
    return tumour.site or first(tumour.extra, "site") or ""


def is_colorectal(tumour) -> bool:
    code, _ = icd10(tumour)
    return bool(code) and code.upper().replace(".", "")[:3] in {"C18", "C19", "C20"}


def morphology(tumour) -> str:
    stored = tumour.snomed_morphology_code or first(
        tumour.extra, "snomed_morphology", "snomed_morphology_code", "morphology"
    )
    return str(stored or "").strip()


def staging(tumour, episode) -> dict:
    """{tnm_version, t_stage, n_stage, m_stage}: the tumour's staging, its flat clinical_t/n/m,
    or the episode's cancer_data.tnm_staging, in that order."""
    cancer_data = (episode.extra or {}).get("cancer_data")
    sources = [tumour.tnm_staging, tumour.extra, (cancer_data or {}).get("tnm_staging")]
    out = {}
    for item, names in (
        ("tnm_version", ("tnm_version",)),
        ("t_stage", ("t_stage", "clinical_t")),
        ("n_stage", ("n_stage", "clinical_n")),
        ("m_stage", ("m_stage", "clinical_m")),
    ):
        out[item] = next(
            (v for s in sources if isinstance(s, dict) for v in [first(s, *names)] if v), None
        )
    return out


def pathology(tumour, name: str):
    held = first(tumour.pathology, name)
    return held if held is not None else first(tumour.extra, name, f"pathology.{name}")


def diagnosis_date(tumour, episode):
    if tumour.diagnosis_date is not None:
        return tumour.diagnosis_date
    stored = first(tumour.extra, "primary_diagnosis_date") or first(
        episode.extra, "primary_diagnosis_date", "cancer_data.primary_diagnosis_date"
    )
    return _date(stored)


def _date(stored):
    if isinstance(stored, datetime | date) or stored is None:
        return stored
    try:
        return date.fromisoformat(str(stored)[:10])
    except ValueError:
        return None


def birth_date(patient) -> tuple[date | None, str | None]:
    """Patient.date_of_birth, else a date of birth kept in `extra` (oncology: demographics)."""
    if patient.date_of_birth:
        return patient.date_of_birth, None
    raw = first(patient.extra, "dob", "date_of_birth", "birth_date", "demographics.date_of_birth")
    if raw is None or str(raw).startswith("ENC:"):
        return None, None  # still encrypted: unknown here, never read as a date
    parsed = _date(raw)
    return (parsed, None) if parsed else (None, str(raw))
