"""Tumour staging and pathology as fields instead of JSON boxes; other keys are kept as stored."""

from django import forms

from oncology.cosd import MAPPING, TNM_CATEGORIES, tnm_category
from oncology.models import Tumour

TNM_PARTS = {"t_stage": "T", "n_stage": "N", "m_stage": "M"}
STAGING_KEYS = {*TNM_PARTS, "tnm_version"}
PATHOLOGY_KEYS = {"grade", "lymph_nodes_examined", "lymph_nodes_positive", "crm_status"}
CRM_CHOICES = [("", "—"), *((code, code.replace("_", " ")) for code in MAPPING["crm_status"])]


def _stage_help(letter: str, part: str) -> str:
    return (
        f"e.g. {letter}3 or p{letter}1 (categories: "
        + ", ".join(f"{letter}{c}" for c in sorted(TNM_CATEGORIES[part]))
        + ")"
    )


class TumourForm(forms.ModelForm):
    t_stage = forms.CharField(label="T stage", required=False, max_length=8,
                              help_text=_stage_help("T", "t_stage"))  # fmt: skip
    n_stage = forms.CharField(label="N stage", required=False, max_length=8,
                              help_text=_stage_help("N", "n_stage"))  # fmt: skip
    m_stage = forms.CharField(label="M stage", required=False, max_length=8,
                              help_text=_stage_help("M", "m_stage"))  # fmt: skip
    tnm_version = forms.ChoiceField(label="TNM version", required=False,
                                    choices=[("", "—"), ("7", "7"), ("8", "8")])  # fmt: skip
    grade = forms.CharField(required=False, max_length=16, help_text="e.g. G2, well differentiated")
    lymph_nodes_examined = forms.IntegerField(required=False, min_value=0, max_value=200)
    lymph_nodes_positive = forms.IntegerField(required=False, min_value=0, max_value=200)
    crm_status = forms.ChoiceField(label="CRM status", required=False, choices=CRM_CHOICES)

    class Meta:
        model = Tumour
        fields = ["tumour_type", "site", "icd10_code", "snomed_morphology_code",
                  *TNM_PARTS, "tnm_version", *PATHOLOGY_KEYS, "diagnosis_date"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staging = self.instance.tnm_staging if isinstance(self.instance.tnm_staging, dict) else {}
        pathology = self.instance.pathology if isinstance(self.instance.pathology, dict) else {}
        for key in STAGING_KEYS:
            value = staging.get(key)
            self.initial.setdefault(key, "" if value is None else str(value))
        for key in PATHOLOGY_KEYS:
            value = pathology.get(key)
            self.initial.setdefault(key, "" if value is None else value)
        stored_crm = str(pathology.get("crm_status") or "")
        if stored_crm and stored_crm not in MAPPING["crm_status"]:  # a legacy value stays choosable
            self.fields["crm_status"].choices = [*CRM_CHOICES, (stored_crm, stored_crm)]

    def _clean_stage(self, part: str):
        value = (self.cleaned_data.get(part) or "").strip()
        if value and part in self.changed_data:
            letter = TNM_PARTS[part]
            if tnm_category(value, letter) not in TNM_CATEGORIES[part]:
                raise forms.ValidationError(
                    f"{value!r} is not a {letter} category ({_stage_help(letter, part)})."
                )
        return value

    def clean_t_stage(self):
        return self._clean_stage("t_stage")

    def clean_n_stage(self):
        return self._clean_stage("n_stage")

    def clean_m_stage(self):
        return self._clean_stage("m_stage")

    def clean(self):
        cleaned = super().clean()
        examined, positive = (
            cleaned.get("lymph_nodes_examined"),
            cleaned.get("lymph_nodes_positive"),
        )
        if examined is not None and positive is not None and positive > examined:
            self.add_error("lymph_nodes_positive", "More positive nodes than nodes examined.")
        self.instance.tnm_staging = self._merge(self.instance.tnm_staging, STAGING_KEYS, cleaned)
        self.instance.pathology = self._merge(self.instance.pathology, PATHOLOGY_KEYS, cleaned)
        return cleaned

    def _merge(self, stored, keys, cleaned) -> dict:
        merged = dict(stored) if isinstance(stored, dict) else {}
        for key in keys:
            if key not in self.changed_data:
                continue  # untouched: the stored value (and its type) stays exactly
            value = cleaned.get(key)
            if value in (None, ""):
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged
