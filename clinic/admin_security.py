"""Admin for login protection (django-axes) and API tokens (knox): who may see and undo what.

The records role reads login attempts, lock-outs, logins and failed logins; a superuser lifts
a lock-out ("Lift lock-out" on Access attempts) and revokes API tokens. Tokens show only
whose they are and when they lapse: the token itself is never stored, only its digest.
"""

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken


def _say(modeladmin, request, count: int, what: str) -> None:
    modeladmin.message_user(request, f"{count} {what}.", messages.SUCCESS)


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    actions = ["lift_lockout"]

    @admin.action(description="Lift lock-out (forget these attempts)", permissions=["delete"])
    def lift_lockout(self, request, queryset):
        count, _ = queryset.delete()
        _say(self, request, count, "lock-out record(s) lifted")


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created", "expiry"]
    list_filter = ["created", "expiry"]
    search_fields = ["user__username"]
    fields = ["user", "created", "expiry"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens come from POST /api/v1/auth/token/, shown once to their owner

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected tokens", permissions=["delete"])
    def revoke(self, request, queryset):
        count, _ = queryset.delete()
        _say(self, request, count, "token(s) revoked")


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class ClinicTOTPDeviceAdmin(TOTPDeviceAdmin):
    """django-otp's admin, plus the setup address as text: its QR page routes integer IDs
    only, which MongoDB's are not."""

    actions = [*(TOTPDeviceAdmin.actions or []), "show_setup_address"]

    @admin.action(description="Show the setup address (otpauth://…) for the authenticator app")
    def show_setup_address(self, request, queryset):
        for device in queryset:
            self.message_user(request, f"{device.user}: {device.config_url}", messages.INFO)
