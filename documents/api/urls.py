from rest_framework.routers import SimpleRouter

from documents.api import views

PATIENT = r"patients/(?P<parent_id>[^/.]+)"

router = SimpleRouter()
router.register("documents", views.DocumentViewSet, basename="document")
router.register("document-batches", views.DocumentBatchViewSet, basename="document-batch")
router.register("medical-timelines", views.MedicalTimelineViewSet, basename="medical-timeline")
router.register(f"{PATIENT}/documents", views.PatientDocumentViewSet, basename="patient-documents")
router.register(
    f"{PATIENT}/document-batches",
    views.PatientDocumentBatchViewSet,
    basename="patient-document-batches",
)
router.register(
    f"{PATIENT}/medical-timelines",
    views.PatientMedicalTimelineViewSet,
    basename="patient-medical-timelines",
)

urlpatterns = router.urls
