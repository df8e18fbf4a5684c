from rest_framework.routers import SimpleRouter

from patients.api import views

PATIENT = r"patients/(?P<parent_id>[^/.]+)"

router = SimpleRouter()
router.register("patients", views.PatientViewSet, basename="patient")
router.register("notes", views.NoteViewSet, basename="note")
router.register("history", views.HistoryEntryViewSet, basename="history")
router.register("allergies", views.AllergyViewSet, basename="allergy")
router.register(f"{PATIENT}/allergies", views.PatientAllergyViewSet, basename="patient-allergies")
router.register(f"{PATIENT}/notes", views.PatientNoteViewSet, basename="patient-notes")
router.register(f"{PATIENT}/history", views.PatientHistoryViewSet, basename="patient-history")
router.register(
    f"{PATIENT}/queue-entries", views.PatientQueueEntryViewSet, basename="patient-queue-entries"
)

urlpatterns = router.urls
