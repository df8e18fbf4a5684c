from django.urls import re_path
from rest_framework.routers import SimpleRouter

from queue_app.api.views import QueueEntryViewSet
from queue_app.live_views import api_stream

# "/?": the issue names `POST /api/v1/queue/call-next`; a POST cannot be slash-redirected.
router = SimpleRouter()
router.trailing_slash = "/?"
router.register("queue", QueueEntryViewSet, basename="queue")

# The stream is an async view of its own (no thread per open stream), ahead of the router.
urlpatterns = [re_path(r"^queue/stream/?$", api_stream, name="queue-stream"), *router.urls]
