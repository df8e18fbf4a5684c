"""Admin site settings shared by every app, and the audit log made read-only for everyone."""

from functools import cached_property
from urllib.parse import urlencode

from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from clinic.otp import OTPAdminLoginForm

admin.site.site_header = "clinic"
admin.site.site_title = "clinic admin"
admin.site.index_title = "Patients, queue and oncology"
admin.site.login_form = OTPAdminLoginForm


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows: an exact COUNT over a million patients on every page view
    costs more than it tells. `admin/pagination.html` shows "more than …" when capped."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Unordered: any cap + 1 rows tell "more than cap"; ordering them would sort every match.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class ReadOnlyAdminMixin:
    """An admin that shows records and never adds, changes or deletes them (audit trails,
    records made by a service)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BigTableAdmin(admin.ModelAdmin):
    """A changelist that stays cheap on tables of millions: no full or per-filter counts."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


def changelist_link(request, model, label: str, **filters) -> str:
    """A link to `model`'s changelist filtered by `filters`, or "" if the user may not see it."""
    opts = model._meta
    if not request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        return ""
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:  # the model has no admin (yet)
        return ""
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def audit_history_link(request, model, pk) -> str:
    content_type = ContentType.objects.get_for_model(model)
    return changelist_link(
        request, LogEntry, "Audit history", object_pk=pk, resource_type=content_type.pk
    )


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdminMixin, AuditlogLogEntryAdmin):
    """auditlog's admin, with delete closed on every URL: the audit log is evidence."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = None

    @admin.display(description="User")
    def user_url(self, obj):
        if obj.actor_id is None and obj.actor_email:  # the user was deleted; their name is kept
            return f"{obj.actor_email} (deleted)"
        return super().user_url(obj)


from clinic import admin_security  # noqa: E402, F401  (registers the login and token admins)
