"""Admin pages of oncology's own that sit under the patient's admin URL."""

from django.urls import path

from oncology.admin_cosd import patient_timeline_view

urlpatterns = [
    path(
        "admin/patients/patient/<path:patient_id>/timeline/",
        patient_timeline_view,
        name="patient_timeline",
    ),
]
