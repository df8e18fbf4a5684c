"""Two-factor login (TOTP, django-otp) for the accounts that can see everything.

With `OTP_REQUIRED` on (the production configuration in docs/install.md turns it on),
superusers and the records role must give the current code of an authenticator app: at the
admin login, and as `otp` when asking for an API token. The local demo leaves it off.
"""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django_otp import match_token, user_has_device

from clinic.permissions import RECORDS


def otp_required_for(user) -> bool:
    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=RECORDS).exists()


def otp_verify(*, user, code: str):
    """The device that accepts `code` for `user` (and is then spent for it), or None."""
    code = (code or "").strip()
    return match_token(user, code) if code else None


class OTPAdminLoginForm(AdminAuthenticationForm):
    """The admin login, with the authenticator code for accounts that need one."""

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        help_text="Superusers and the records role: the 6 digits your authenticator app shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not otp_required_for(user):
            return
        if not user_has_device(user, confirmed=True):
            raise forms.ValidationError(
                "This account needs two-factor login but has no authenticator set up yet; "
                "ask an administrator to add one (Admin → TOTP devices).",
                code="otp_missing",
            )
        device = otp_verify(user=user, code=self.cleaned_data.get("otp_token", ""))
        if device is None:
            raise forms.ValidationError(
                "Enter the current code from your authenticator app.", code="otp_invalid"
            )
        user.otp_verified_device = device  # the login signal then marks the session verified


# The session remembers that its login gave a code. Our own key rather than django-otp's
# middleware: that one reads device IDs back as integers, which MongoDB's ObjectIds are not.
VERIFIED = "clinic_otp_verified"


def otp_login_on_admin_login(sender, request, user, **kwargs):
    verified = getattr(user, "otp_verified_device", None) is not None
    if verified and request is not None and hasattr(request, "session"):
        request.session[VERIFIED] = True


class OTPRequiredMiddleware:
    """A session of an account that needs two-factor but has not given a code (started before
    OTP_REQUIRED was turned on, or by any other way in) is ended."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and otp_required_for(user) and not request.session.get(VERIFIED):
            logout(request)
        return self.get_response(request)
