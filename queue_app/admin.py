from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from clinic.admin import BigTableAdmin, ReadOnlyAdminMixin
from queue_app import admin_views
from queue_app.models import QueueEntry, QueueEvent, Vitals
from queue_app.services import OPEN_STATUSES, QueueConflict, queue_enqueue, queue_transition


class DayFilter(admin.SimpleListFilter):
    """Today's queue unless another day is chosen: that is what the desk works from."""

    title = "day"
    parameter_name = "day"

    def lookups(self, request, model_admin):
        return [("today", "Today"), ("yesterday", "Yesterday"), ("all", "All days")]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                continue  # "today" is the default; "All days" is the explicit opt-out
            if self.value() is None and choice["display"] == "Today":
                choice["selected"] = True
            yield choice

    def queryset(self, request, queryset):
        value = self.value() or "today"
        if value == "all":
            return queryset
        today = timezone.localdate()
        days = {"today": today, "yesterday": today - timedelta(days=1)}
        try:
            day = days.get(value) or date.fromisoformat(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(day=day)


class QueueEventInline(admin.TabularInline):
    model = QueueEvent
    fields = ["at", "action", "from_status", "to_status", "by", "undo_of"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EnqueueForm(forms.ModelForm):
    class Meta:
        model = QueueEntry
        fields = ["patient", "priority", "reason"]

    def clean(self):
        cleaned = super().clean()
        patient = cleaned.get("patient")
        if (
            patient
            and QueueEntry.objects.filter(
                patient=patient, day=timezone.localdate(), status__in=OPEN_STATUSES
            ).exists()
        ):
            raise ValidationError(f"{patient.name} is already in today's queue.")
        return cleaned


@admin.register(QueueEntry)
class QueueEntryAdmin(BigTableAdmin):
    list_display = ["token_number", "patient_name", "priority", "status", "reason", "day",
                    "added_at", "room"]  # fmt: skip
    list_display_links = ["token_number", "patient_name"]
    list_filter = [DayFilter, "status", "priority"]
    search_fields = ["id__exact", "patient_name", "patient_id__exact"]
    ordering = ["-day", "token_number"]
    autocomplete_fields = ["patient"]
    inlines = [QueueEventInline]
    actions = ["cancel_selected"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EnqueueForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["patient", "priority", "reason"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [field.name for field in QueueEntry._meta.fields]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def has_change_permission(self, request, obj=None):
        # Entries change only through the workflow (board, API), never by editing fields.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django wraps a POST here in its SQL atomic(); the enqueue service opens its own
        # transaction (clinic.db.atomic), which MongoDB cannot commit inside that block.
        return self._changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        entry = queue_enqueue(
            patient_id=obj.patient_id, priority=obj.priority, reason=obj.reason, by=request.user
        )
        obj.__dict__.update({f.attname: getattr(entry, f.attname) for f in entry._meta.fields})
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        # The desk goes back to the board, where the new token shows, not to the list.
        if "_addanother" in request.POST or "_continue" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request, f"{obj.patient_name} has token {obj.token_number}.", messages.SUCCESS
        )
        return redirect(reverse("admin:queue_app_queueentry_board"))

    @admin.action(description="Cancel selected entries", permissions=["change"])
    def cancel_selected(self, request, queryset):
        done = 0
        for entry in queryset.filter(status__in=OPEN_STATUSES).only("id"):
            try:
                queue_transition(entry_id=entry.pk, action="cancel", by=request.user)
                done += 1
            except (QueueConflict, PermissionDenied):
                pass
        self.message_user(request, f"Cancelled {done} entries.", messages.SUCCESS)

    def get_urls(self):
        return admin_views.urls(self) + super().get_urls()


@admin.register(Vitals)
class VitalsAdmin(ReadOnlyAdminMixin, BigTableAdmin):
    """Vitals are recorded from the board (or the API); here they are read, never edited."""

    list_display = ["recorded_at", "patient", "entry", "systolic_bp", "diastolic_bp", "pulse",
                    "temperature_c", "spo2", "recorded_by"]  # fmt: skip
    list_select_related = ["patient"]
    search_fields = ["entry__id__exact", "patient__uhid__exact"]
    search_help_text = "Queue ID or the patient's UHID (exactly)."
    date_hierarchy = "recorded_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Vitals._meta.fields]
