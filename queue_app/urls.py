from django.urls import path

from queue_app import live_views, views

app_name = "queue"
urlpatterns = [
    path("display/", views.display, name="display"),
    path("display/panel/", views.display_panel, name="display-panel"),
    path("display/stream/", live_views.display_stream, name="display-stream"),
]
