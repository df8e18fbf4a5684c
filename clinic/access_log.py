"""Access log: who read which patient record, list, document or export, from which address.

Every successful GET of patient data, in the API and the admin, becomes an audit-log entry
with the action "access": the record's type and ID (empty for a list), the address and query
that were read, the user, and the checked client address. The records role reads them with
every other audit entry. Background refreshes of the live board are not logged (their 304s are
not reads, and the stream only says "changed").
"""

import re

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType

API = "/api/v1/"
# (path pattern, "app_label.model"); the first match names what was read. `id` is the record's.
API_RULES = [
    (r"patients/(?P<id>[^/]+)/", "patients.patient"),  # a patient, its notes, history, timeline
    (r"patients/$", "patients.patient"),
    (r"notes/(?:(?P<id>[^/]+)/)?$", "patients.note"),
    (r"history/(?:(?P<id>[^/]+)/)?$", "patients.historyentry"),
    (r"episodes/(?P<id>[^/]+)/", "oncology.episode"),
    (r"episodes/$", "oncology.episode"),
    (r"treatments/(?:(?P<id>[^/]+)/)?$", "oncology.treatment"),
    (r"tumours/(?:(?P<id>[^/]+)/)?$", "oncology.tumour"),
    (r"cosd/exports/(?:(?P<id>\d+)/download/)?$", "oncology.cosdsubmission"),
    (r"queue/(?:board|metrics)/?$", "queue_app.queueentry"),
    (r"queue/(?:(?P<id>[^/]+)/?)?$", "queue_app.queueentry"),
    (r"documents/(?:(?P<id>[^/]+)/)?", "documents.document"),
]
API_RULES = [(re.compile(API + pattern), model) for pattern, model in API_RULES]
ADMIN = re.compile(
    r"^/admin/(?P<app>patients|oncology|queue_app|documents)/(?P<model>\w+)/"
    r"(?:(?P<id>.+?)/(?P<page>change|timeline|history|download)/)?(?:board/|metrics/)?$"
)
SKIP = re.compile(r"/(stream|table|panel)/$|/autocomplete/$|/jsi18n/$")
MAX_REPR = 500


def _target(path: str):
    """(model, object ID or "") that the path reads, or None if it is not patient data."""
    if SKIP.search(path):
        return None
    if path.startswith(API):
        for pattern, label in API_RULES:
            match = pattern.match(path)
            if match:
                return label, match.groupdict().get("id") or ""
        return None
    match = ADMIN.match(path)
    if match:
        object_id = match["id"] or ""
        if match["page"] in ("change", "history"):
            # Only the admin's own pages quote IDs ("_" is "_5F"); ours carry them as they are,
            # and unquoting "PAT_5FE40D7B" would log a read of "PAT_E40D7B".
            object_id = unquote(object_id)
        return f"{match['app']}.{match['model']}", object_id
    return None


def access_record(request, response) -> None:
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    target = _target(request.path)
    if target is None:
        return
    label, object_id = target
    try:
        model = apps.get_model(label)
    except LookupError:  # an app not installed here
        return
    query = request.META.get("QUERY_STRING", "")
    read = f"{request.path}?{query}" if query else request.path
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=object_id[:255],
        object_repr=read[:MAX_REPR],
        action=LogEntry.Action.ACCESS,
        actor=user,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
        additional_data={"read": "record" if object_id else "list"},
    )


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        access_record(request, response)
        return response
