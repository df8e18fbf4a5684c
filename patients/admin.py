"""Admin for patients, their notes and history: search that stays indexed at a million rows."""

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic.admin import BigTableAdmin, audit_history_link, changelist_link
from patients import phones, selectors, services
from patients.admin_registration import (
    REGISTRATION_FIELDS,
    PatientForm,
    merge_selected,
    patient_label,
    unmerge_selected,
)
from patients.models import HistoryEntry, Note, Patient

SOAP_PARTS = ["subjective", "objective", "assessment", "plan"]
# Also in a SOAP note's content (the OPD system's notes): shown as boxes, not JSON.
NOTE_EXTRAS = ["chief_complaint", "medications"]
NOTE_TEXT = ["language", "transcript"]


def _soap_box() -> forms.CharField:
    return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))


class NoteForm(forms.ModelForm):
    """A SOAP note as four boxes; `content` keeps any other keys (and other note types) as JSON."""

    subjective = _soap_box()
    objective = _soap_box()
    assessment = _soap_box()
    plan = _soap_box()
    chief_complaint = forms.CharField(required=False, max_length=500)
    medications = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="One medication per line.",
    )

    class Meta:
        model = Note
        fields = ["type", *SOAP_PARTS, *NOTE_EXTRAS, "content", "audio_file_url", *NOTE_TEXT]
        labels = {"content": "Other content (JSON)"}
        help_texts = {
            "content": "SOAP notes: anything besides the four boxes. "
            "Other note types: the note itself."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        content = self.instance.content
        if isinstance(content, dict):
            for part in SOAP_PARTS:
                self.initial.setdefault(part, content.get(part, ""))
            self.initial.setdefault("chief_complaint", content.get("chief_complaint") or "")
            medications = content.get("medications") or []
            self.initial.setdefault(
                "medications",
                "\n".join(map(str, medications)) if isinstance(medications, list) else medications,
            )
            boxes = {*SOAP_PARTS, *NOTE_EXTRAS}
            self.initial["content"] = {k: v for k, v in content.items() if k not in boxes}

    def clean(self):
        cleaned = super().clean()
        if "content" not in self.fields or "content" in self.errors:
            return cleaned
        other = cleaned.get("content")
        other = {} if other in (None, "") else other
        parts = {p: cleaned[p].strip() for p in SOAP_PARTS if (cleaned.get(p) or "").strip()}
        if (cleaned.get("chief_complaint") or "").strip():
            parts["chief_complaint"] = cleaned["chief_complaint"].strip()
        medications = [m.strip() for m in (cleaned.get("medications") or "").splitlines()]
        if any(medications):
            parts["medications"] = [m for m in medications if m]
        if not isinstance(other, dict):  # free text, as legacy transcriptions have it
            if not parts:
                return cleaned
            other = {"text": other}
        cleaned["content"] = {**other, **parts}  # boxes win over the same keys typed as JSON
        return cleaned


def _soap_part(name: str):
    @admin.display(description=name.capitalize())
    def show(self, obj):
        return obj.content.get(name, "") if isinstance(obj.content, dict) else ""

    return show


class SoapDisplay:
    """Read-only views (no change permission) show the SOAP parts from `content`."""

    subjective = _soap_part("subjective")
    objective = _soap_part("objective")
    assessment = _soap_part("assessment")
    plan = _soap_part("plan")

    @admin.display(description="Chief complaint")
    def chief_complaint(self, obj):
        return obj.content.get("chief_complaint", "") if isinstance(obj.content, dict) else ""

    @admin.display(description="Medications")
    def medications(self, obj):
        value = obj.content.get("medications", "") if isinstance(obj.content, dict) else ""
        return ", ".join(map(str, value)) if isinstance(value, list) else value


class SummaryDisplay:
    """An AI timeline summary's text and counts (from `content`), read-only."""

    @admin.display(description="Summary")
    def timeline_summary(self, obj):
        content = obj.content if isinstance(obj.content, dict) else {}
        if obj.type != HistoryEntry.Type.TIMELINE_SUMMARY or not content.get("summary"):
            return ""
        counts = [
            f"{label}: {content[key]}"
            for key, label in (
                ("document_count", "documents"),
                ("event_count", "events"),
                ("current_medications_count", "current medications"),
            )
            if key in content
        ]
        return f"{content['summary']} ({', '.join(counts)})" if counts else content["summary"]


class NoteInline(SoapDisplay, admin.StackedInline):
    model = Note
    form = NoteForm
    extra = 0
    fields = ["type", *SOAP_PARTS, *NOTE_EXTRAS, "content", "audio_file_url", *NOTE_TEXT,
              "created_by", "created_at"]  # fmt: skip
    readonly_fields = ["created_by", "created_at"]
    show_change_link = True


class HistoryEntryInline(SummaryDisplay, admin.TabularInline):
    model = HistoryEntry
    extra = 0
    fields = ["type", "date", "timeline_summary", "content", "source", "document_id", "batch_id"]
    readonly_fields = ["timeline_summary"]
    show_change_link = True


@admin.register(Patient)
class PatientAdmin(BigTableAdmin):
    form = PatientForm
    list_display = ["name_shown", "uhid", "age_sex", "phone_national", "id", "updated_at"]
    list_filter = ["gender"]
    sortable_by = ["name_shown", "uhid"]
    search_fields = ["name"]  # what autocomplete needs; get_search_results does the real work
    search_help_text = (
        "Any word of the name (or its start), a UHID or NHS number or part of one, the patient "
        "ID, or a phone number typed in any format."
    )
    readonly_fields = ["id", "date_of_birth_estimated", "created_at", "updated_at", "extra"]
    inlines = [NoteInline, HistoryEntryInline]
    actions = [merge_selected, unmerge_selected]

    @admin.display(description="name", ordering="name")
    def name_shown(self, obj):
        return obj.display_name

    def get_fieldsets(self, request, obj=None):
        details = [*REGISTRATION_FIELDS, *(["confirm_new"] if obj is None else [])]
        if obj is None:
            return [(None, {"fields": details})]
        return [
            (None, {"fields": [*details, "date_of_birth_estimated"]}),
            ("Audit", {"fields": ["id", "created_at", "updated_at", "extra"]}),
        ]

    @admin.display(description="age/sex")
    def age_sex(self, obj):
        return patient_label(obj).split(" · ")[1]

    @admin.display(description="phone", ordering="phone")
    def phone_national(self, obj):
        return phones.display(obj.phone)

    def has_merge_permission(self, request):
        return request.user.has_perm("patients.merge_patient")

    def get_search_results(self, request, queryset, search_term):
        return selectors.patient_search(queryset, search_term), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = unquote(object_id)
        kept = selectors.patient_resolve(pk)
        if kept is not None and kept.pk != pk:  # a merged-away ID leads to the record kept
            messages.info(request, f"{pk} was merged into {kept}; this is the record kept.")
            return redirect("admin:patients_patient_change", quote(kept.pk))
        links = [
            changelist_link(
                request,
                apps.get_model("queue_app", "QueueEntry"),
                "Queue entries",
                patient__exact=pk,
            ),
            changelist_link(
                request,
                apps.get_model("oncology", "Episode"),
                "Oncology episodes",
                patient__exact=pk,
            ),
            format_html('<a href="{}">Timeline</a>', reverse("patient_timeline", args=[pk])),
            changelist_link(
                request, apps.get_model("documents", "Document"), "Documents", patient__exact=pk
            ),
            format_html(
                '<a href="{}">Upload documents</a>',
                reverse("admin:documents_document_upload", args=[pk]),
            )
            if request.user.has_perm("documents.add_document")
            else "",
            audit_history_link(request, Patient, pk),
        ]
        extra_context = {**(extra_context or {}), "related_links": [link for link in links if link]}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        services.patient_search_reindex(patient_ids=[obj.pk])

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if instance._state.adding and hasattr(instance, "created_by"):
                instance.created_by = instance.created_by or request.user.get_username()
            elif not instance._state.adding:
                instance.updated_at = timezone.now()
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


class PatientChildAdmin(BigTableAdmin):
    autocomplete_fields = ["patient"]
    list_select_related = ["patient"]
    readonly_fields = ["id", "created_at", "updated_at", "extra"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Note)
class NoteAdmin(SoapDisplay, PatientChildAdmin):
    form = NoteForm
    list_display = ["id", "patient", "type", "created_by", "created_at"]
    list_filter = ["type"]
    date_hierarchy = "created_at"
    search_fields = ["id__exact", "patient__uhid__exact", "created_by__exact"]
    search_help_text = "Note ID, the patient's UHID, or the author's user name (exactly)."
    fields = [
        "patient",
        "type",
        *SOAP_PARTS,
        *NOTE_EXTRAS,
        "content",
        "audio_file_url",
        *NOTE_TEXT,
        "created_by",
        *PatientChildAdmin.readonly_fields,
    ]
    readonly_fields = [*PatientChildAdmin.readonly_fields, "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = obj.created_by or request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(HistoryEntry)
class HistoryEntryAdmin(SummaryDisplay, PatientChildAdmin):
    list_display = ["id", "patient", "type", "date", "source", "document_id", "batch_id"]
    list_filter = ["type", "source"]
    date_hierarchy = "date"
    search_fields = ["id__exact", "patient__uhid__exact", "document_id__exact"]
    search_help_text = "History ID, the patient's UHID, or the document ID (exactly)."
    fields = [
        "patient",
        "type",
        "date",
        "timeline_summary",
        "content",
        "source",
        "document_id",
        "batch_id",
        *PatientChildAdmin.readonly_fields,
    ]
    readonly_fields = [*PatientChildAdmin.readonly_fields, "timeline_summary"]
