"""The ASGI application (`bin/serve` runs it under gunicorn with uvicorn workers).

Views marked `live_stream` (the queue's server-sent event streams) are called straight from the
handler, without the middleware chain: Django runs a sync-only middleware (whitenoise, auditlog)
in a thread and would then hold that thread for the stream's whole life. Those views load the
session and user and run DRF's authentication themselves; they send no patient data.
"""

import os

import django
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, get_resolver, set_urlconf

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")


class ClinicASGIHandler(ASGIHandler):
    async def get_response_async(self, request):
        if request.path_info.endswith(("/stream/", "/stream")):
            try:
                match = get_resolver().resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "live_stream", False):
                set_urlconf(settings.ROOT_URLCONF)
                request.resolver_match = match
                response = await match.func(request, *match.args, **match.kwargs)
                response._resource_closers.append(request.close)
                return response
        return await super().get_response_async(request)


def get_application() -> ClinicASGIHandler:
    django.setup(set_prefix=False)
    return ClinicASGIHandler()


application = get_application()
