"""The two live streams as async views: `/api/v1/queue/stream/` and `/queue/display/stream/`.

They run without Django's middleware (see `clinic.asgi`: a sync-only middleware would pin each
stream to a thread), so they load the session and the user themselves and let DRF's configured
authentication and permission classes decide, exactly as for the other API views. The same check
runs again every `live_hub.RECHECK_SECONDS` from the stored credentials: a stream whose session or
token has ended is closed. One user holds at most `QUEUE_STREAMS_PER_USER` streams (429 beyond).
"""

import json
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.cookie import parse_cookie
from django.utils import timezone
from rest_framework import renderers
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from queue_app import live_hub, live_leases, views
from queue_app.live import event_stream_response
from queue_app.models import QueueEntry

SERVICE_UNAVAILABLE = {"error": {"code": "unavailable", "fields": {},
                                 "message": "The server is restarting; reconnect."}}  # fmt: skip


class EventStreamRenderer(renderers.BaseRenderer):
    """Errors of a request that asked only for `text/event-stream` still come back as JSON."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)


def cap_message() -> str:
    cap = live_leases.streams_per_user()
    return f"You already have {cap} live updates open; close a board or screen first."


def _error(status: int, code: str, message: str) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "fields": {}}}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _with_login(request: HttpRequest) -> HttpRequest:
    """What SessionMiddleware and AuthenticationMiddleware would have set on the request."""
    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    return request


def _replay(meta: dict, query: str) -> HttpRequest:
    """A fresh GET with the stream's original headers: asks the credentials again."""
    request = HttpRequest()
    request.method, request.META = "GET", dict(meta)
    request.COOKIES = parse_cookie(meta.get("HTTP_COOKIE", ""))
    request.GET = QueryDict(query)
    return _with_login(request)


def _credentials(request) -> dict:
    keep = ("HTTP_AUTHORIZATION", "HTTP_COOKIE", "REMOTE_ADDR", "HTTP_HOST", "SERVER_NAME",
            "SERVER_PORT", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT")  # fmt: skip
    return {name: request.META[name] for name in keep if name in request.META}


@dataclass(frozen=True)
class Recheck:
    """Hashable by the credentials, so the hub asks once for all streams opened with them."""

    key: tuple
    check: object = field(compare=False, hash=False)

    def __call__(self) -> bool:
        return self.check()


class _ApiGate(APIView):
    """The API's own authentication and permission classes (settings), on a queue read."""

    queryset = QueueEntry.objects.none()  # RolePermission: view_queueentry
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]
    lease = False  # take a stream lease (opening) or only check (the periodic recheck)

    def get(self, request):
        raw = request.query_params.get("day")
        try:
            day = date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise ValidationError({"day": ["Give the day as YYYY-MM-DD."]}) from None
        if self.lease:
            lease = live_leases.acquire(_user_key(request.user))
            if lease is None:
                raise Throttled(detail=cap_message())
            request._request.stream_lease = lease
        return Response({"day": day, "user_pk": request.user.pk})


_gate_views = {True: _ApiGate.as_view(lease=True), False: _ApiGate.as_view(lease=False)}


def _user_key(user) -> str:
    return f"user:{user.pk}"


def _api_gate(request, *, lease: bool):
    """(day, user pk, lease id) when the API lets the request stream, else the error response."""
    response = _gate_views[lease](request)
    if response.status_code != 200:
        response.render()
        return response
    return response.data["day"], response.data["user_pk"], getattr(request, "stream_lease", "")


def _api_still_valid(meta: dict, query: str, user_pk) -> bool:
    answer = _api_gate(_replay(meta, query), lease=False)
    return isinstance(answer, tuple) and answer[1] == user_pk


async def api_stream(request):
    """Live updates of one day's queue as server-sent events (`event: queue`, `{day, version}`)."""
    if live_hub.hub().closing:
        return _error(503, "unavailable", SERVICE_UNAVAILABLE["error"]["message"])
    answer = await live_hub.in_thread(lambda: _api_gate(_with_login(request), lease=True))()
    if not isinstance(answer, tuple):
        return answer
    day, user_pk, lease = answer
    meta, query = _credentials(request), request.META.get("QUERY_STRING", "")
    recheck = Recheck(
        ("api", meta.get("HTTP_AUTHORIZATION"), meta.get("HTTP_COOKIE"), user_pk),
        lambda: _api_still_valid(meta, query, user_pk),
    )
    subscriber = live_hub.Subscriber(recheck=recheck, lease_id=lease)
    return event_stream_response(request, day=day, subscriber=subscriber)


def _display_gate(request):
    """(user key or "" for a screen with the display token, lease id) or an error response."""
    if not views._allowed(request):
        raise PermissionDenied
    if not request.user.is_authenticated:
        return "", ""  # an unattended TV with ?token=: no user to count
    lease = live_leases.acquire(_user_key(request.user))
    if lease is None:
        return _error(429, "throttled", cap_message())
    return _user_key(request.user), lease


def _display_still_valid(meta: dict, query: str, user_key: str) -> bool:
    request = _replay(meta, query)
    if not views._allowed(request):
        return False
    return not user_key or _user_key(request.user) == user_key


async def display_stream(request):
    """The waiting-room screen's live updates (a staff session or `?token=`)."""
    if live_hub.hub().closing:
        return _error(503, "unavailable", SERVICE_UNAVAILABLE["error"]["message"])
    try:
        answer = await live_hub.in_thread(lambda: _display_gate(_with_login(request)))()
    except PermissionDenied:
        return _error(403, "permission_denied", "Log in, or open the screen with its token.")
    if isinstance(answer, HttpResponse):
        return answer
    user_key, lease = answer
    meta, query = _credentials(request), request.META.get("QUERY_STRING", "")
    recheck = Recheck(
        ("display", meta.get("HTTP_COOKIE"), query, user_key),
        lambda: _display_still_valid(meta, query, user_key),
    )
    subscriber = live_hub.Subscriber(recheck=recheck, lease_id=lease)
    return event_stream_response(request, day=timezone.localdate(), subscriber=subscriber)


api_stream.live_stream = True
display_stream.live_stream = True
