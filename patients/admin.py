"""Admin for patients, their notes and history: search that stays indexed at a million rows."""

import re

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic.admin import BigTableAdmin, audit_history_link, changelist_link
from patients.admin_clinical import (
    AllergyInline,
    HistoryEntryInline,
    NoteInline,
    VitalsInline,
    save_clinical_formset,
)
from patients.models import Patient

# Above every character a name can continue with: `name >= t AND name < t + TOP` is a prefix
# match that both SQLite and MongoDB answer from the name index (LIKE and regex cannot).
TOP = "\U0010ffff"
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")


def phone_variants(term: str) -> list[str]:
    """Every way the legacy data writes the number staff typed (`+919876543210`,
    `98765 43210`, `098765-43210`, …), so an exact, indexed `phone IN (…)` finds it."""
    digits = re.sub(r"\D", "", term)
    variants = {term.strip(), digits}
    if len(digits) >= 10:
        local = digits[-10:]
        head, tail = local[:5], local[5:]
        variants |= {
            local,
            f"0{local}",
            f"91{local}",
            f"+91{local}",
            f"+91 {local}",
            f"{head} {tail}",
            f"{head}-{tail}",
            f"0{head} {tail}",
            f"0{head}-{tail}",
            f"+91 {head} {tail}",
            f"+91-{head}-{tail}",
            f"+91 {head}-{tail}",
        }
    return sorted(v for v in variants if v)


def patient_search(term: str) -> Q:
    """Patient ID or UHID exactly, phone in any format, or the start of the name in any case."""
    term = term.strip()
    query = Q(pk=term) | Q(pk=term.upper())
    if PHONE_LIKE.match(term):
        digits = re.sub(r"\D", "", term)
        return query | Q(uhid=digits) | Q(phone__in=phone_variants(term))
    for cased in {term, term.title(), term.upper(), term.lower()}:
        query |= Q(name__gte=cased, name__lt=cased + TOP)
    return query


@admin.register(Patient)
class PatientAdmin(BigTableAdmin):
    list_display = ["name", "uhid", "age", "gender", "phone", "id", "updated_at"]
    list_filter = ["gender"]
    sortable_by = ["name", "uhid"]
    search_fields = ["name"]  # what autocomplete needs; get_search_results does the real work
    search_help_text = "Start of the name, UHID, patient ID, or phone number typed in any format."
    readonly_fields = ["id", "created_at", "updated_at", "extra"]
    inlines = [AllergyInline, VitalsInline, NoteInline, HistoryEntryInline]

    def get_fieldsets(self, request, obj=None):
        details = (None, {"fields": ["name", "uhid", "age", "gender", "phone"]})
        if obj is None:
            return [details]
        return [
            details,
            ("Audit", {"fields": ["id", "created_at", "updated_at", "extra"]}),
        ]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(patient_search(search_term)), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = unquote(object_id)
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
            audit_history_link(request, Patient, pk),
        ]
        extra_context = {**(extra_context or {}), "related_links": [link for link in links if link]}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if save_clinical_formset(request, formset):
            return
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
