"""Request guards every page and endpoint shares, and the headers every answer carries.

- Bodies over `DATA_UPLOAD_MAX_MEMORY_SIZE` (file uploads aside) are a 413.
- NUL or a lone surrogate in the path, a query parameter or a form field (also as a JSON escape
  in a JSON form field, or JSON nested too deep) is a 400: forms and filters never see it.
- A year outside the dates a record may carry in a filter (`?date__year=1`), or a value that
  overflows a date or a database integer anywhere else, is a 400 with a message, not a 500.
- API answers and staff pages are never cached (`Cache-Control: no-store`); every answer
  carries a Permissions-Policy that turns off the browser features clinic never uses.
"""

import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from clinic.text import DATE_MAX, DATE_MIN, DATE_RANGE, has_bad_text, json_text_problem

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
NO_STORE_PREFIXES = ("/api/", "/admin/", "/queue/")


def _error(request, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"error": {"code": code, "message": message, "fields": {}}}
        return JsonResponse(body, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _values_problem(values) -> str | None:
    for key, items in values.lists():
        if has_bad_text(key):
            return f"{key!r}: a parameter name may not hold such characters."
        for value in items:
            if not isinstance(value, str):
                continue
            if has_bad_text(value):
                return f"{key}: Text may not contain NUL characters or unpaired UTF-16 surrogates."
            problem = json_text_problem(value)
            if problem:
                return f"{key}: {problem}"
            if key.endswith("__year") and value.strip().lstrip("-").isdigit():
                if not DATE_MIN.year <= int(value) <= DATE_MAX.year:
                    return f"{key}: {DATE_RANGE}"
    return None


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self._refuse(request)
        response = refused or self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith(NO_STORE_PREFIXES) and not response.has_header("Cache-Control"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def _refuse(self, request) -> HttpResponse | None:
        content_type = request.META.get("CONTENT_TYPE", "")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit and length > limit and not content_type.startswith("multipart/"):
            return _error(
                request, 413, "too_large", f"A request body may be at most {limit} bytes."
            )
        if has_bad_text(request.path):
            return _error(request, 400, "invalid", "The address holds characters it may not.")
        problem = _values_problem(request.GET)
        if problem is None and content_type.startswith(
            ("multipart/form-data", "application/x-www-form-urlencoded")
        ):
            problem = _values_problem(request.POST)
        if problem:
            return _error(request, 400, "invalid", problem)
        return None

    def process_exception(self, request, exception):
        # A date outside what datetime can convert to UTC, or an integer beyond the database's,
        # deep inside a filter or a save; every such write runs in a transaction, so none lands.
        if isinstance(exception, OverflowError):
            return _error(
                request, 400, "invalid", f"A date or number is out of range. {DATE_RANGE}"
            )
        return None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(meta: dict, trusted: set[str]) -> str:
    """The client's address: X-Forwarded-For's nearest untrusted hop when the request came
    through a trusted proxy and that hop is an address; otherwise the connection's address."""
    remote = meta.get("REMOTE_ADDR", "")
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or remote not in trusted:
        return remote
    for hop in reversed([part.strip() for part in forwarded.split(",")]):
        if not _is_address(hop):
            return remote  # a forged or garbled header: keep what we know
        if hop not in trusted:
            return hop
    return remote


class ClientAddressMiddleware:
    """Sets REMOTE_ADDR to the checked client address and drops X-Forwarded-For, so nothing
    later (the audit log, the lock-out) can read an address a client made up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        meta["REMOTE_ADDR"] = client_address(meta, set(settings.TRUSTED_PROXIES))
        meta.pop("HTTP_X_FORWARDED_FOR", None)
        meta.pop("HTTP_X_REAL_IP", None)
        return self.get_response(request)
