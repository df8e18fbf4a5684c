"""Admin for patients, their notes and history: search that stays indexed at a million rows."""

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic.admin import BigTableAdmin, audit_history_link, changelist_link
from patients import phones, selectors, services
from patients.admin_clinical import (
    AllergyInline,
    HistoryEntryInline,
    NoteInline,
    VitalsInline,
    save_clinical_formset,
)
from patients.admin_registration import (
    REGISTRATION_FIELDS,
    PatientForm,
    merge_selected,
    patient_label,
    unmerge_selected,
)
from patients.models import Patient


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
    inlines = [AllergyInline, VitalsInline, NoteInline, HistoryEntryInline]
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
