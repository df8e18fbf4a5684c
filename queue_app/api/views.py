import threading
from collections import OrderedDict
from datetime import date
from time import monotonic

import django_filters as filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clinic.api.exceptions import Conflict
from queue_app import services
from queue_app.api.serializers import (
    QueueBoardSerializer,
    QueueCallNextSerializer,
    QueueCancelSerializer,
    QueueEnqueueSerializer,
    QueueEntrySerializer,
    QueueEventSerializer,
    QueueMetricsSerializer,
    VitalsSerializer,
)
from queue_app.live import not_modified
from queue_app.models import QueueEntry
from queue_app.selectors import (
    queue_board,
    queue_etag,
    queue_events,
    queue_metrics,
    queue_version,
)
from queue_app.vitals import vitals_record

BOARD_TIMES = ("added_at", "started_at", "nurse_completed_at", "timeline_ready_at",
               "consultation_started_at")  # fmt: skip
BOARD_ROW_FIELDS = ("id", "patient_id", "patient_name", "token_number", "priority", "status",
                    *BOARD_TIMES, "doctor_id", "doctor_name", "room", "reason")  # fmt: skip
DAY_PARAM = OpenApiParameter("day", OpenApiTypes.DATE, description="Clinic day; default today.")
STEP_DOC = {
    "start": "Nurse starts with the patient: stamps `started_at`, status stays `waiting`.",
    "nurse-complete": "Nurse is done: `waiting` → `nurse_completed`.",
    "ready": "Timeline ready: `nurse_completed` → `ready_for_doctor`.",
    "complete": "Doctor finishes (doctor role): `in_consultation` → `completed`.",
    "cancel": "Cancel from any open state.",
    "undo": "Revert the last step (recorded as an event); doctor steps need a doctor.",
}


class QueueEntryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=QueueEntry.Status.choices)
    priority = filters.ChoiceFilter(choices=QueueEntry.Priority.choices)
    patient = filters.CharFilter(field_name="patient_id")

    class Meta:
        model = QueueEntry
        fields = ["day", "status", "priority", "patient"]


def board_rows(entries) -> list[dict]:
    """BoardEntrySerializer's output, built by hand: the board is the hottest read we serve."""
    rows, zone = [], timezone.get_current_timezone()
    for entry in entries:
        row = {name: entry[name] for name in BOARD_ROW_FIELDS}
        for name in BOARD_TIMES:
            if row[name] is not None:
                row[name] = row[name].astimezone(zone).isoformat()
        row["patient"] = row.pop("patient_id")
        row["doctor"] = None if row["doctor_id"] is None else str(row.pop("doctor_id"))
        row.pop("doctor_id", None)
        rows.append(row)
    return rows


_board_cache: OrderedDict = OrderedDict()
_board_lock = threading.Lock()
BOARD_CACHE_SECONDS = 5


def board_payload(day: date) -> dict:
    """The board as sent, shared by every reader of one (day, version) for a few seconds: many
    screens read the same board between two changes. The version is read first, so the data
    is at least that new; any change moves the version and so the key."""
    version = queue_version(day=day)
    key = (day, version)
    with _board_lock:
        cached = _board_cache.get(key)
    if cached and monotonic() - cached[0] < BOARD_CACHE_SECONDS:
        return cached[1]
    board = queue_board(day=day)
    payload = {**board, "day": day, "version": version, "entries": board_rows(board["entries"])}
    with _board_lock:
        _board_cache[key] = (monotonic(), payload)
        while len(_board_cache) > 16:
            _board_cache.popitem(last=False)
    return payload


def _day(request) -> date:
    raw = request.query_params.get("day")
    if not raw:
        return timezone.localdate()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DjangoValidationError({"day": "Give the day as YYYY-MM-DD."}) from None


def _conflicts(call):
    try:
        return call()
    except services.QueueConflict as exc:
        raise Conflict(str(exc)) from exc


class QueueEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Today's and past queues. Nurses and doctors run the queue; records staff read it."""

    queryset = QueueEntry.objects.all()
    serializer_class = QueueEntrySerializer
    filterset_class = QueueEntryFilter
    ordering_fields = ["day", "token_number", "added_at"]

    @extend_schema(request=QueueEnqueueSerializer, responses={201: QueueEntrySerializer})
    def create(self, request):
        """Give a registered patient the next token of today (409 if already waiting today)."""
        data = QueueEnqueueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = _conflicts(
            lambda: services.queue_enqueue(
                patient_id=data.validated_data["patient"],
                priority=data.validated_data["priority"],
                reason=data.validated_data["reason"],
                by=request.user,
            )
        )
        return Response(QueueEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    def _step(self, request, action_name: str) -> Response:
        entry = self.get_object()
        reason = ""
        if action_name == "cancel":
            body = request.data if isinstance(request.data, dict) else {}
            data = QueueCancelSerializer(data=body)
            data.is_valid(raise_exception=True)
            reason = data.validated_data["reason"]
        if action_name == "undo":
            moved = _conflicts(lambda: services.queue_undo(entry_id=entry.pk, by=request.user))
        else:
            moved = _conflicts(
                lambda: services.queue_transition(
                    entry_id=entry.pk, action=action_name, by=request.user, reason=reason
                )
            )
        return Response(QueueEntrySerializer(moved).data)

    def _step_action(name: str):  # noqa: N805 - builds one action per workflow step
        def step(self, request, pk=None):
            return self._step(request, name)

        # DRF maps the route to the method by __name__, fixed when @action runs.
        step.__name__ = name.replace("-", "_")
        step.__doc__ = STEP_DOC[name]
        step = action(detail=True, methods=["post"], url_path=name, url_name=name)(step)
        return extend_schema(request=None, responses=QueueEntrySerializer)(step)

    cancel_schema = extend_schema(request=QueueCancelSerializer, responses=QueueEntrySerializer)
    start = _step_action("start")
    nurse_complete = _step_action("nurse-complete")
    ready = _step_action("ready")
    complete = _step_action("complete")
    cancel = cancel_schema(_step_action("cancel"))
    undo = _step_action("undo")
    del _step_action, cancel_schema

    def _room(self, request, data) -> str:
        return data.validated_data["room"] or services.doctor_room_get(user=request.user)

    @extend_schema(request=QueueCallNextSerializer, responses=QueueEntrySerializer)
    @action(detail=True, methods=["post"], url_path="call", url_name="call")
    def call(self, request, pk=None):
        """Doctor calls in this ready patient (409 if not ready, or if the doctor is still in a
        consultation and `allow_second` is not true); the room is remembered."""
        entry = self.get_object()
        data = QueueCallNextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        called = _conflicts(
            lambda: services.queue_call(
                entry_id=entry.pk,
                by=request.user,
                room=self._room(request, data),
                allow_second=data.validated_data["allow_second"],
            )
        )
        return Response(QueueEntrySerializer(called).data)

    @extend_schema(methods=["POST"], request=VitalsSerializer, responses={201: VitalsSerializer})
    @extend_schema(methods=["GET"], responses=VitalsSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def vitals(self, request, pk=None):
        """The visit's vitals (GET, newest first), or record a set (POST, nurse or doctor):
        values outside plausible ranges answer 400 with the range."""
        entry = self.get_object()
        if request.method == "GET":
            rows = entry.vitals.order_by("-recorded_at", "id")
            return Response(VitalsSerializer(rows, many=True).data)
        if not request.user.has_perm(services.CHANGE_PERMISSION):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Your role may not record vitals.")
        body = request.data if isinstance(request.data, dict) else {}
        values = {k: v for k, v in body.items() if k not in {"id", "entry", "patient"}}
        vitals = vitals_record(entry_id=entry.pk, by=request.user, values=values)
        return Response(VitalsSerializer(vitals).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=QueueCallNextSerializer, responses=QueueEntrySerializer)
    @action(detail=False, methods=["post"], url_path="call-next", url_name="call-next")
    def call_next(self, request):
        """Doctor takes the ready entry with the highest priority, then lowest token (409: none)."""
        data = QueueCallNextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = _conflicts(
            lambda: services.queue_call_next(
                by=request.user,
                room=self._room(request, data),
                allow_second=data.validated_data["allow_second"],
            )
        )
        return Response(QueueEntrySerializer(entry).data)

    @extend_schema(responses=QueueEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The entry's history: every step, who made it and when, oldest first."""
        entry = self.get_object()
        events = queue_events(entry_id=entry.pk).select_related("by")
        return Response(QueueEventSerializer(events, many=True).data)

    @extend_schema(
        parameters=[DAY_PARAM],
        responses={200: QueueBoardSerializer, 304: OpenApiResponse(description="Unchanged.")},
    )
    @action(detail=False, methods=["get"])
    def board(self, request):
        """The day's open entries; send the last ETag as If-None-Match to get a cheap 304."""
        day = _day(request)
        etag = queue_etag(day=day)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        board = board_payload(day)
        response = Response(board)
        response["ETag"] = f'"board-{day.isoformat()}-{board["version"]}"'
        response["Cache-Control"] = "no-cache"
        return response

    @extend_schema(parameters=[DAY_PARAM], responses=QueueMetricsSerializer)
    @action(detail=False, methods=["get"])
    def metrics(self, request):
        """Waiting count and average / p90 waits in minutes; open entries count up to now."""
        return Response(QueueMetricsSerializer(queue_metrics(day=_day(request))).data)
