"""API authentication that tells django-auditlog who is acting.

AuditlogMiddleware records the actor from `request.user` before the view runs, but DRF
authenticates a token only inside the view, so token writes would be logged without an
actor. Once DRF knows the user, we put it into the audit context the middleware opened.
Tokens are django-rest-knox's: digests at rest, an expiry, `Authorization: Token <token>`.
"""

from auditlog.context import auditlog_value
from knox.auth import TokenAuthentication
from rest_framework.authentication import SessionAuthentication


def _record_actor(result):
    if result is not None:
        try:
            context = auditlog_value.get()
        except LookupError:  # no AuditlogMiddleware around this request (e.g. a direct call)
            return result
        if context.get("actor") is None:
            context["actor"] = result[0]
    return result


class AuditedTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        return _record_actor(super().authenticate(request))


class AuditedSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        return _record_actor(super().authenticate(request))
