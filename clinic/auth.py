"""Login protection and API tokens: the lock-out answer, token issue and revocation.

django-axes counts failed logins per username and per address (settings `AXES_*`); knox keeps
tokens as digests with an expiry. A password change or a deactivation revokes every token the
user holds, so a leaked token dies with the password it was issued under.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse, JsonResponse
from knox.models import AuthToken


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for logins over the web; a call without a request (a script, the
    test client's `login`) has no address to count and is left to the password backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed logins for this account or from this address: locked for {minutes} "
        "minutes. An administrator can lift the lock-out sooner."
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """axes' AXES_LOCKOUT_CALLABLE: 429 in the API's error shape, or a plain page."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": lockout_message(), "fields": {}}}
        return JsonResponse(body, status=429)
    return HttpResponse(lockout_message(), status=429, content_type="text/plain; charset=utf-8")


def token_create(*, user) -> tuple[AuthToken, str]:
    """A new token for `user`: (the stored record, the token text shown this once)."""
    return AuthToken.objects.create(user=user)


def tokens_revoke(*, user_id) -> int:
    deleted, _ = AuthToken.objects.filter(user_id=user_id).delete()
    return deleted


def _revoke_on_password_or_deactivation(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    changed_password = before["password"] != instance.password
    deactivated = before["is_active"] and not instance.is_active
    if changed_password or deactivated:
        tokens_revoke(user_id=instance.pk)


def _keep_actor_name_on_delete(sender, instance, **kwargs):
    """The audit log's actor link goes when a user is deleted; their name stays on each entry."""
    from auditlog.models import LogEntry

    name = instance.get_username()
    if instance.email:
        name = f"{name} <{instance.email}>"
    LogEntry.objects.filter(actor_id=instance.pk).update(actor_email=name[:254])


def connect_signals() -> None:
    from django.db.models.signals import pre_delete, pre_save

    pre_save.connect(
        _revoke_on_password_or_deactivation,
        sender=get_user_model(),
        dispatch_uid="clinic.auth.revoke_tokens",
    )
    pre_delete.connect(
        _keep_actor_name_on_delete,
        sender=get_user_model(),
        dispatch_uid="clinic.auth.keep_actor_name",
    )
