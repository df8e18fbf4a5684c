"""Admin pages of the queue: today's board with one-click steps, and the wait-time chart."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from queue_app import printing, services
from queue_app.forms import VitalsForm
from queue_app.live import not_modified
from queue_app.models import QueueEntry
from queue_app.selectors import queue_desk_board, queue_etag, queue_metrics
from queue_app.vitals import vitals_record

NURSE_ACTIONS = {
    "waiting": ["start", "nurse-complete"],
    "nurse_completed": ["ready"],
    "ready_for_doctor": [],
    "in_consultation": [],
}
DOCTOR_ACTIONS = {"in_consultation": ["complete"]}


def urls(model_admin) -> list:
    wrap = model_admin.admin_site.admin_view
    views = BoardViews(model_admin)
    return [
        path("board/", wrap(views.board), name="queue_app_queueentry_board"),
        path("board/table/", wrap(views.table), name="queue_app_queueentry_board_table"),
        path("board/call-next/", wrap(views.call_next), name="queue_app_queueentry_call_next"),
        path("board/<str:entry_id>/call/", wrap(views.call), name="queue_app_queueentry_call"),
        path(
            "board/<str:entry_id>/vitals/", wrap(views.vitals), name="queue_app_queueentry_vitals"
        ),
        *printing.urls(wrap, views._check_view),
        path(
            "board/<str:entry_id>/<str:action>/", wrap(views.step), name="queue_app_queueentry_step"
        ),  # fmt: skip
        path("metrics/", wrap(views.metrics), name="queue_app_queueentry_metrics"),
    ]


def _table_context(request, day: date) -> dict:
    user = request.user
    can_nurse = user.has_perm(services.CHANGE_PERMISSION)
    can_doctor = user.has_perm(services.CONSULT_PERMISSION)
    board = queue_desk_board(day=day)
    for entry in board["entries"]:
        steps = NURSE_ACTIONS[entry["status"]] if can_nurse else []
        if entry["status"] == "waiting" and entry["started_at"]:
            steps = [step for step in steps if step != "start"]
        doctor_steps = DOCTOR_ACTIONS.get(entry["status"], []) if can_doctor else []
        entry["steps"] = steps + doctor_steps
        entry["can_cancel"] = can_nurse
        entry["can_call"] = can_doctor and entry["status"] == "ready_for_doctor"
    return {"board": board, "can_nurse": can_nurse, "can_doctor": can_doctor,
            "room": services.doctor_room_get(user=user) if can_doctor else "",
            "thresholds": {"wait_warn": settings.QUEUE_WAIT_WARN_MINUTES,
                           "wait_alert": settings.QUEUE_WAIT_ALERT_MINUTES,
                           "status_warn": settings.QUEUE_STATUS_WARN_MINUTES,
                           "status_alert": settings.QUEUE_STATUS_ALERT_MINUTES},
            "etag": queue_etag(day=day, kind="admin")}  # fmt: skip


class BoardViews:
    def __init__(self, model_admin):
        self.model_admin = model_admin

    def _check_view(self, request):
        if not self.model_admin.has_view_permission(request):
            raise PermissionDenied

    def board(self, request):
        self._check_view(request)
        context = {
            **self.model_admin.admin_site.each_context(request),
            **_table_context(request, timezone.localdate()),
            "opts": self.model_admin.model._meta,
            "title": "Today's queue",
        }
        return TemplateResponse(request, "admin/queue_app/queueentry/board.html", context)

    def table(self, request):
        """The board's table alone, for the live refresh; 304 while nothing changed."""
        self._check_view(request)
        day = timezone.localdate()
        etag = queue_etag(day=day, kind="admin")
        if not_modified(request, etag):
            response = HttpResponse(status=304)
        else:
            response = TemplateResponse(
                request, "admin/queue_app/queueentry/board_table.html",
                _table_context(request, day),
            )  # fmt: skip
        response["ETag"] = etag
        response["Cache-Control"] = "no-cache"
        return response

    def _act(self, request, work, done: str):
        try:
            entry = work()
        except (services.QueueConflict, PermissionDenied, ValidationError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text or "Your role does not allow this.")
        else:
            messages.success(request, done.format(entry=entry))
        return redirect(reverse("admin:queue_app_queueentry_board"))

    def step(self, request, entry_id: str, action: str):
        return require_POST(self._step)(request, entry_id, action)

    def _step(self, request, entry_id, action):
        if action == "undo":
            return self._act(
                request, lambda: services.queue_undo(entry_id=entry_id, by=request.user),
                "Token {entry.token_number}: last step undone.",
            )  # fmt: skip
        if action not in services.STEPS or action == "call-next":
            raise PermissionDenied
        reason = request.POST.get("reason", "").strip()
        may_cancel = request.user.has_perm(services.STEPS["cancel"].permission)
        if action == "cancel" and may_cancel and not reason:
            messages.error(request, "Give a reason to cancel (e.g. left without being seen).")
            return redirect(reverse("admin:queue_app_queueentry_board"))
        return self._act(
            request,
            lambda: services.queue_transition(
                entry_id=entry_id, action=action, by=request.user, reason=reason
            ),
            "Token {entry.token_number}: " + action.replace("-", " ") + " done.",
        )

    def call_next(self, request):
        return require_POST(self._call_next)(request)

    def _call_next(self, request):
        room = request.POST.get("room", "")[:32]
        second = request.POST.get("allow_second") == "1"
        return self._act(
            request,
            lambda: services.queue_call_next(by=request.user, room=room, allow_second=second),
            "Token {entry.token_number} ({entry.patient_name}) is yours.",
        )

    def call(self, request, entry_id: str):
        return require_POST(self._call)(request, entry_id)

    def _call(self, request, entry_id):
        room = request.POST.get("room", "")[:32]
        second = request.POST.get("allow_second") == "1"
        return self._act(
            request,
            lambda: services.queue_call(
                entry_id=entry_id, by=request.user, room=room, allow_second=second
            ),
            "Token {entry.token_number} ({entry.patient_name}) is yours.",
        )

    def vitals(self, request, entry_id: str):
        """Record vitals for a visit (nurse or doctor), then back to the board."""
        self._check_view(request)
        entry = get_object_or_404(QueueEntry.objects.select_related("patient"), pk=entry_id)
        if not request.user.has_perm(services.CHANGE_PERMISSION):
            raise PermissionDenied
        form = VitalsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                vitals_record(entry_id=entry.pk, by=request.user, values=form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Token {entry.token_number}: vitals recorded.")
                return redirect(reverse("admin:queue_app_queueentry_board"))
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": self.model_admin.model._meta,
            "title": f"Vitals: token {entry.token_number}, {entry.patient_name}",
            "entry": entry, "form": form,
            "previous": entry.vitals.order_by("-recorded_at", "id")[:3],
        }  # fmt: skip
        return TemplateResponse(request, "admin/queue_app/queueentry/vitals.html", context)

    def metrics(self, request):
        self._check_view(request)
        try:
            day = date.fromisoformat(request.GET.get("day", ""))
        except ValueError:
            day = timezone.localdate()
        metrics = queue_metrics(day=day)
        rows = [("Arrival → nurse", metrics["arrival_to_nurse"]),
                ("Nurse → doctor", metrics["nurse_to_doctor"]),
                ("Arrival → doctor", metrics["total"])]  # fmt: skip
        longest = max([(w["p90_minutes"] or 0) for _, w in rows] + [1])
        bars = [
            {"label": label, "wait": wait, "y": 10 + index * 70,
             "avg_width": round((wait["avg_minutes"] or 0) / longest * 480),
             "p90_width": round((wait["p90_minutes"] or 0) / longest * 480)}
            for index, (label, wait) in enumerate(rows)
        ]  # fmt: skip
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": self.model_admin.model._meta,
            "title": f"Wait times on {day:%d %b %Y}",
            "metrics": metrics, "bars": bars, "day": day,
        }  # fmt: skip
        return TemplateResponse(request, "admin/queue_app/queueentry/metrics.html", context)
