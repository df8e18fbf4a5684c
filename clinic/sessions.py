"""Idle session timeout: a staff session unused for SESSION_IDLE_MINUTES ends (besides the
absolute SESSION_COOKIE_AGE). The live board's and TV display's background refreshes do not
count as use, or a screen left open would keep its session alive for ever."""

import time

from django.conf import settings
from django.contrib.auth import logout

LAST_SEEN = "clinic_last_seen"
BACKGROUND_SUFFIXES = ("/panel/", "/table/", "/stream/")
# Record use at most this often, so every page view does not rewrite the session.
RESOLUTION_SECONDS = 30


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)  # the view then sees an anonymous user: login page or 401/403
            elif not self._background(request) and (
                last is None or now - last > RESOLUTION_SECONDS
            ):
                request.session[LAST_SEEN] = now
        return self.get_response(request)

    @staticmethod
    def _background(request) -> bool:
        return request.method == "GET" and request.path.endswith(BACKGROUND_SUFFIXES)
