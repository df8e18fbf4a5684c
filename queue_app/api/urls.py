from rest_framework.routers import SimpleRouter

from queue_app.api.views import QueueEntryViewSet

# "/?": the issue names `POST /api/v1/queue/call-next`; a POST cannot be slash-redirected.
router = SimpleRouter()
router.trailing_slash = "/?"
router.register("queue", QueueEntryViewSet, basename="queue")

urlpatterns = router.urls
