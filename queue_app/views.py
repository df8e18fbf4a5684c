"""The waiting-room display: a TV page that needs no one logged in at the screen.

Access: a logged-in staff session, or `?token=` matching the QUEUE_DISPLAY_TOKEN setting (so a
screen can run unattended). Patient names appear only with `?names=1` for staff who may view
the queue; the screen shows token numbers by default. The live stream is in live_views.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET

from queue_app.live import not_modified
from queue_app.selectors import queue_display, queue_etag


def _allowed(request) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    expected = getattr(settings, "QUEUE_DISPLAY_TOKEN", "")
    return bool(expected) and constant_time_compare(request.GET.get("token", ""), expected)


def _show_names(request) -> bool:
    return request.GET.get("names") == "1" and request.user.has_perm("queue_app.view_queueentry")


def _etag(request) -> str:
    return queue_etag(day=timezone.localdate(), kind=f"display{int(_show_names(request))}")


def _context(request) -> dict:
    return {
        "display": queue_display(day=timezone.localdate()),
        "show_names": _show_names(request),
        "query": request.GET.urlencode(),
        "etag": _etag(request),
    }


@require_GET
def display(request):
    if not _allowed(request):
        return redirect_to_login(request.get_full_path())
    return TemplateResponse(request, "queue_app/display.html", _context(request))


@require_GET
def display_panel(request):
    if not _allowed(request):
        raise PermissionDenied
    etag = _etag(request)
    if not_modified(request, etag):
        response = HttpResponse(status=304)
    else:
        response = TemplateResponse(request, "queue_app/display_panel.html", _context(request))
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response
