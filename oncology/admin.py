"""Admin for oncology episodes with their treatments and tumours (the split-out tables)."""

import json

from django.contrib import admin
from django.utils.html import format_html

from clinic.admin import BigTableAdmin
from oncology import services
from oncology.forms import PATHOLOGY_KEYS, STAGING_KEYS, TNM_PARTS, TumourForm
from oncology.models import Episode, Treatment, Tumour

TREATMENT_FIELDS = [
    "treatment_type",
    "treatment_date",
    "treatment_intent",
    "provider_organisation",
    "opcs4_code",
    "surgical_access_type",
    "surgical_urgency_type",
    "asa_grade",
    "regimen",
    "cycles",
    "dose_gy",
    "fractions",
]
TUMOUR_FIELDS = [
    "tumour_type",
    "site",
    "icd10_code",
    "snomed_morphology_code",
    *TNM_PARTS,
    "tnm_version",
    "grade",
    "lymph_nodes_examined",
    "lymph_nodes_positive",
    "crm_status",
    "diagnosis_date",
]


class TumourDisplay:
    """Read-only views show staging and pathology as fields; other stored keys as raw data."""

    @admin.display(description="Other staging and pathology data")
    def other_tumour_data(self, obj):
        other = {
            **{k: v for k, v in (obj.tnm_staging or {}).items() if k not in STAGING_KEYS},
            **{k: v for k, v in (obj.pathology or {}).items() if k not in PATHOLOGY_KEYS},
        }
        if not other:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(other, indent=2, ensure_ascii=False))


def _stored(attribute: str, key: str, label: str):
    @admin.display(description=label)
    def show(self, obj):
        value = (getattr(obj, attribute) or {}).get(key)
        return "" if value is None else value

    return show


for _key in STAGING_KEYS:
    setattr(TumourDisplay, _key, _stored("tnm_staging", _key, _key.replace("_", " ")))
for _key in PATHOLOGY_KEYS:
    setattr(TumourDisplay, _key, _stored("pathology", _key, _key.replace("_", " ")))


class EpisodeChildInline(admin.StackedInline):
    extra = 0
    show_change_link = True


class TreatmentInline(EpisodeChildInline):
    model = Treatment
    fields = TREATMENT_FIELDS


class TumourInline(TumourDisplay, EpisodeChildInline):
    model = Tumour
    form = TumourForm
    fields = TUMOUR_FIELDS


@admin.register(Episode)
class EpisodeAdmin(BigTableAdmin):
    list_display = [
        "id",
        "patient",
        "cancer_type",
        "episode_status",
        "referral_date",
        "lead_clinician",
    ]
    list_filter = ["episode_status", "cancer_type"]
    list_select_related = ["patient"]
    date_hierarchy = "referral_date"
    autocomplete_fields = ["patient"]
    search_fields = ["id__exact", "mrn__exact", "nhs_number__exact", "patient__uhid__exact"]
    search_help_text = "Episode ID, MRN, NHS number or the patient's UHID (exactly)."
    readonly_fields = ["id", "created_at", "last_modified_at", "embedded_items", "extra"]
    inlines = [TreatmentInline, TumourInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "patient",
                    "mrn",
                    "nhs_number",
                    "condition_type",
                    "cancer_type",
                    "episode_status",
                    "lead_clinician",
                ]
            },
        ),
        ("Pathway dates", {"fields": ["referral_date", "first_seen_date", "mdt_discussion_date"]}),
        ("Record", {"fields": ["id", "created_at", "last_modified_at", "embedded_items"]}),
        ("Raw data (read-only)", {"classes": ["collapse"], "fields": ["extra"]}),
    ]

    @admin.display(description="embedded items not yet split")
    def embedded_items(self, obj):
        treatments, tumours = len(obj.embedded_treatments or []), len(obj.embedded_tumours or [])
        if not (treatments or tumours):
            return "none"
        return f"{treatments} treatments, {tumours} tumours (run split_embedded)"

    def save_model(self, request, obj, form, change):
        services.episode_touch(obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Treatments and tumours also store the patient, so patient-level reads need no join.
        for instance in formset.save(commit=False):
            instance.patient_id = form.instance.patient_id
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


class EpisodeChildAdmin(BigTableAdmin):
    autocomplete_fields = ["episode"]
    list_select_related = ["episode", "patient"]
    readonly_fields = ["id", "patient", "position", "extra"]
    search_fields = ["id__exact", "episode__id__exact", "patient__uhid__exact"]
    search_help_text = "ID, episode ID or the patient's UHID (exactly)."

    def save_model(self, request, obj, form, change):
        obj.patient_id = obj.episode.patient_id
        super().save_model(request, obj, form, change)


@admin.register(Treatment)
class TreatmentAdmin(EpisodeChildAdmin):
    list_display = ["id", "patient", "episode", "treatment_type", "treatment_date", "opcs4_code"]
    list_filter = ["treatment_type", "treatment_intent"]
    date_hierarchy = "treatment_date"
    fields = ["episode", *TREATMENT_FIELDS, *EpisodeChildAdmin.readonly_fields]


@admin.register(Tumour)
class TumourAdmin(TumourDisplay, EpisodeChildAdmin):
    form = TumourForm
    list_display = ["id", "patient", "episode", "tumour_type", "site", "icd10_code"]
    list_filter = ["tumour_type"]
    date_hierarchy = "diagnosis_date"
    readonly_fields = [*EpisodeChildAdmin.readonly_fields, "other_tumour_data"]
    fieldsets = [
        (None, {"fields": ["episode", *TUMOUR_FIELDS]}),
        ("Record", {"fields": ["id", "patient", "position"]}),
        (
            "Raw data (read-only)",
            {"classes": ["collapse"], "fields": ["other_tumour_data", "extra"]},
        ),
    ]


from oncology import admin_cosd  # noqa: E402,F401
