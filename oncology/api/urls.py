from rest_framework.routers import SimpleRouter

from oncology.api import views

router = SimpleRouter()
router.register("episodes", views.EpisodeViewSet, basename="episode")
router.register("treatments", views.TreatmentViewSet, basename="treatment")
router.register("tumours", views.TumourViewSet, basename="tumour")
router.register(
    r"patients/(?P<parent_id>[^/.]+)/episodes",
    views.PatientEpisodeViewSet,
    basename="patient-episodes",
)
router.register(
    r"episodes/(?P<parent_id>[^/.]+)/treatments",
    views.EpisodeTreatmentViewSet,
    basename="episode-treatments",
)
router.register(
    r"episodes/(?P<parent_id>[^/.]+)/tumours",
    views.EpisodeTumourViewSet,
    basename="episode-tumours",
)

urlpatterns = [
    *router.urls,
]

# COSD exports and the patient timeline (issue 6): plain views, appended to the router's routes.
from django.urls import path  # noqa: E402

from oncology.api import cosd as cosd_api  # noqa: E402
from oncology.api import timeline as timeline_api  # noqa: E402

urlpatterns += [
    path("cosd/exports/", cosd_api.CosdExportView.as_view(), name="cosd-exports"),
    path(
        "cosd/exports/<int:number>/download/",
        cosd_api.CosdDownloadView.as_view(),
        name="cosd-export-download",
    ),
    path(
        "patients/<str:patient_id>/timeline/",
        timeline_api.PatientTimelineView.as_view(),
        name="patient-timeline",
    ),
]
