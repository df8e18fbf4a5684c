"""Admin for clinical entry: notes (signed, then amended), history (no JSON), allergies, vitals."""

import json

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import csrf_protect_m
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clinic.admin import BigTableAdmin
from patients import clinical, services
from patients.forms import (
    HISTORY_KEYS,
    HISTORY_LISTS,
    NOTE_EXTRAS,
    NOTE_KEYS,
    SOAP_PARTS,
    HistoryEntryForm,
    NoteForm,
)
from patients.models import Allergy, HistoryEntry, Note, NoteAmendment

NOTE_FIELDS = ["type", *SOAP_PARTS, *NOTE_EXTRAS, "text"]
HISTORY_FIELDS = [
    "type", "date", "summary", *HISTORY_LISTS, "doctor", "notes", "source", "document_id",
    "batch_id",
]  # fmt: skip
READ_ONLY_JSON = (
    "Raw data (read-only)",
    {"classes": ["collapse"], "fields": ["other_content", "extra"]},
)


def _json(value) -> str:
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, default=str)
    )


def _soap_part(name: str):
    @admin.display(description=name.capitalize())
    def show(self, obj):
        return obj.content.get(name, "") if isinstance(obj.content, dict) else ""

    return show


class NoteDisplay:
    """Read-only views (no change permission) show the note's parts; everyone sees amendments."""

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

    @admin.display(description="Note text")
    def text(self, obj):
        content = obj.content
        return content if isinstance(content, str) else (content or {}).get("text", "")

    @admin.display(description="Other content")
    def other_content(self, obj):
        content = obj.content if isinstance(obj.content, dict) else {}
        other = {k: v for k, v in content.items() if k not in NOTE_KEYS}
        return _json(other) if other else "—"

    @admin.display(description="Signed")
    def signed(self, obj):
        if obj is None or obj.pk is None or obj._state.adding:
            return "—"
        return f"{obj.created_by or 'unknown'}, {timezone.localtime(obj.created_at):%d %b %Y %H:%M}"

    @admin.display(description="Amendments (the note as it was before each change)")
    def amendment_history(self, obj):
        if obj is None or obj._state.adding:
            return "—"
        rows = NoteAmendment.objects.filter(note_id=obj.pk).order_by("amended_at", "id")
        items = [
            (
                row.amended_by,
                timezone.localtime(row.amended_at).strftime("%d %b %Y %H:%M"),
                row.reason,
                json.dumps(row.previous_content, indent=2, ensure_ascii=False),
            )
            for row in rows
        ]
        if not items:
            return "None: the note is as signed."
        return format_html(
            '<ol class="note-amendments">{}</ol>',
            format_html_join("", "<li><b>{}</b>, {}: {}<pre>{}</pre></li>", items),
        )


class DomainIdInline:
    """A domain-ID primary key is editable, so Django renders no hidden `-id` box for it unless
    it is excluded; without that box a browser's POST cannot save an existing row."""

    exclude = ["id"]


class NoteInline(DomainIdInline, NoteDisplay, admin.StackedInline):
    model = Note
    form = NoteForm
    extra = 0
    fields = [*NOTE_FIELDS, "signed", "amendment_history", "amendment_reason"]
    readonly_fields = ["signed", "amendment_history"]
    show_change_link = True

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.has_change_permission(request, obj):
            return [name for name in fields if name != "amendment_reason"]
        return fields


class HistoryDisplay:
    @admin.display(description="Other content")
    def other_content(self, obj):
        content = obj.content if isinstance(obj.content, dict) else {}
        other = {k: v for k, v in content.items() if k not in HISTORY_KEYS}
        return _json(other) if other else "—"

    @admin.display(description="Summary")
    def summary(self, obj):
        content = obj.content if isinstance(obj.content, dict) else {}
        if obj.type == HistoryEntry.Type.TIMELINE_SUMMARY:  # the OPD system's AI summary
            counts = [
                f"{label}: {content[key]}"
                for key, label in (
                    ("document_count", "documents"),
                    ("event_count", "events"),
                    ("current_medications_count", "current medications"),
                )
                if key in content
            ]
            text = str(content.get("summary") or "—")
            return f"{text} ({', '.join(counts)})" if counts else text
        lines = [
            clinical.item_text(key, item)
            for key in HISTORY_LISTS
            for item in (content.get(key) or [] if isinstance(content.get(key), list) else [])
        ]
        return "; ".join(lines) or content.get("notes") or "—"


def _history_part(key: str, label: str):
    @admin.display(description=label)
    def show(self, obj):
        content = obj.content if isinstance(obj.content, dict) else {}
        value = content.get(key)
        if isinstance(value, list):
            return format_html_join(
                "", "<div>{}</div>", ((clinical.item_text(key, i),) for i in value)
            )
        return value or ""

    return show


class HistoryReadOnlyParts:
    """For roles that only view history: the structured parts as text."""

    medications = _history_part("medications", "Medications")
    diagnoses = _history_part("diagnoses", "Diagnoses")
    lab_results = _history_part("lab_results", "Lab results")
    doctor = _history_part("doctor", "Doctor")
    notes = _history_part("notes", "Notes / visit summary")


class HistoryEntryInline(DomainIdInline, HistoryDisplay, HistoryReadOnlyParts, admin.StackedInline):
    model = HistoryEntry
    form = HistoryEntryForm
    extra = 0
    fields = HISTORY_FIELDS
    readonly_fields = ["summary"]
    show_change_link = True


class AllergyInline(DomainIdInline, admin.TabularInline):
    model = Allergy
    extra = 0
    fields = ["substance", "reaction", "severity", "recorded_by", "recorded_at"]
    readonly_fields = ["recorded_by", "recorded_at"]


def _vitals_model():
    return apps.get_model("queue_app", "Vitals")


class VitalsInline(DomainIdInline, admin.TabularInline):
    """The patient's vitals, newest first, as the nurse recorded them at each visit (read-only:
    vitals are recorded from the queue board)."""

    model = _vitals_model()
    extra = 0
    can_delete = False
    ordering = ["-recorded_at", "id"]
    fields = ["recorded_at", "blood_pressure", "pulse", "temperature_c", "spo2",
              "respiratory_rate", "weight_kg", "height_cm", "bmi", "blood_glucose",
              "recorded_by"]  # fmt: skip
    readonly_fields = fields
    verbose_name_plural = "vitals (recorded at the nurse step)"

    @admin.display(description="BP (mmHg)")
    def blood_pressure(self, obj):
        if obj.systolic_bp and obj.diastolic_bp:
            return f"{obj.systolic_bp}/{obj.diastolic_bp}"
        return "—"

    @admin.display(description="BMI")
    def bmi(self, obj):
        return obj.bmi or "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _save_note(request, form, note: Note) -> None:
    if note._state.adding:
        note.created_by = note.created_by or request.user.get_username()
        note.created_at = timezone.now()
        note.save()
    elif form.changed_note():
        services.note_amend(
            note_id=note.pk,
            changes={name: getattr(note, name) for name in services.NOTE_AMENDABLE},
            reason=form.cleaned_data.get("amendment_reason", ""),
            by=request.user.get_username(),
        )


def save_clinical_formset(request, formset) -> bool:
    """Save the patient page's note and allergy inlines (True), or leave it to the caller."""
    if formset.model is Note:
        deleted = formset.deleted_forms
        # The admin's change message reads these, as formset.save() would have set them.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for form in formset.forms:
            if form in deleted or not form.has_changed():
                continue
            form.instance.patient = formset.instance
            if form.instance._state.adding:
                formset.new_objects.append(form.instance)
            else:
                formset.changed_objects.append((form.instance, form.changed_data))
            _save_note(request, form, form.instance)
        for form in deleted:
            if form.instance.pk and not form.instance._state.adding:
                formset.deleted_objects.append(form.instance)
                form.instance.delete()
        return True
    if formset.model is Allergy:
        for allergy in formset.save(commit=False):
            if allergy._state.adding:
                allergy.recorded_by = request.user.get_username()
            allergy.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        return True
    return False


class PatientChildAdmin(BigTableAdmin):
    autocomplete_fields = ["patient"]
    list_select_related = ["patient"]
    readonly_fields = ["id", "created_at", "updated_at", "other_content", "extra"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django wraps a POST here in its SQL atomic(); the services open their own
        # transaction (clinic.db.atomic), which MongoDB cannot commit inside that block.
        return self._changeform_view(request, object_id, form_url, extra_context)


class NoteAmendmentInline(DomainIdInline, admin.TabularInline):
    model = NoteAmendment
    fields = ["amended_at", "amended_by", "reason", "previous_type", "previous"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "amendments (the note as it was before each change)"

    @admin.display(description="Previous content")
    def previous(self, obj):
        return _json(obj.previous_content)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Note)
class NoteAdmin(NoteDisplay, PatientChildAdmin):
    form = NoteForm
    list_display = ["id", "patient", "type", "created_by", "created_at", "updated_at"]
    list_filter = ["type"]
    date_hierarchy = "created_at"
    search_fields = ["id__exact", "patient__uhid__exact", "created_by__exact"]
    search_help_text = "Note ID, the patient's UHID, or the author's user name (exactly)."
    readonly_fields = [*PatientChildAdmin.readonly_fields, "created_by", "signed"]
    inlines = [NoteAmendmentInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_fieldsets(self, request, obj=None):
        main = ["patient", *NOTE_FIELDS, "transcript", "language", "audio_file_url"]
        if obj is not None:
            main.append("signed")
            if self.has_change_permission(request, obj):
                main.append("amendment_reason")
        return [
            (None, {"fields": main}),
            ("Record", {"fields": ["id", "created_at", "updated_at"]}),
            READ_ONLY_JSON,
        ]

    def save_model(self, request, obj, form, change):
        _save_note(request, form, obj)


@admin.register(HistoryEntry)
class HistoryEntryAdmin(HistoryDisplay, HistoryReadOnlyParts, PatientChildAdmin):
    form = HistoryEntryForm
    list_display = ["id", "patient", "type", "date", "summary", "source"]
    list_filter = ["type", "source"]
    date_hierarchy = "date"
    search_fields = ["id__exact", "patient__uhid__exact", "document_id__exact"]
    search_help_text = "History ID, the patient's UHID, or the document ID (exactly)."
    readonly_fields = [*PatientChildAdmin.readonly_fields, "summary"]
    fieldsets = [
        (None, {"fields": ["patient", *HISTORY_FIELDS]}),
        ("Record", {"fields": ["id", "created_at", "updated_at"]}),
        READ_ONLY_JSON,
    ]


@admin.register(Allergy)
class AllergyAdmin(BigTableAdmin):
    list_display = ["substance", "patient", "severity", "reaction", "recorded_by", "recorded_at"]
    list_filter = ["severity"]
    list_select_related = ["patient"]
    autocomplete_fields = ["patient"]
    search_fields = ["substance", "patient__uhid__exact"]
    fields = ["patient", "substance", "reaction", "severity", "recorded_by", "recorded_at"]
    readonly_fields = ["recorded_by", "recorded_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user.get_username()
        super().save_model(request, obj, form, change)
