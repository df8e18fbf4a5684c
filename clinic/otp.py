"""Two-factor login (TOTP, django-otp) for the accounts that can see everything.

With `OTP_REQUIRED` on (the production configuration in docs/install.md turns it on),
superusers and the records role must give the current code of an authenticator app: at the
admin login, and as `otp` when asking for an API token. The local demo leaves it off.
"""

from django.conf import settings
from django_otp import match_token

from clinic.permissions import RECORDS


def otp_required_for(user) -> bool:
    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=RECORDS).exists()


def otp_verify(*, user, code: str):
    """The device that accepts `code` for `user` (and is then spent for it), or None."""
    code = (code or "").strip()
    return match_token(user, code) if code else None
