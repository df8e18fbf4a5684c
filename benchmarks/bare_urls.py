"""The baseline bench_api.py compares with: a bare DRF ModelViewSet on the same patients table.

DRF's defaults and nothing of ours: token authentication (knox, the tokens ours takes),
IsAuthenticated, a plain ModelSerializer, DRF's CursorPagination (its keyset pagination: no
COUNT, fast at any depth), DRF's SearchFilter on name and phone (icontains), no audit, no
services. Mounted beside the real API, in the same server process."""

from django.urls import include, path
from knox.auth import TokenAuthentication
from rest_framework import filters, pagination, permissions, routers, serializers, viewsets

from clinic.urls import urlpatterns as clinic_urlpatterns
from patients.models import Patient


class BarePatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "uhid", "name", "age", "gender", "phone", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class BareCursor(pagination.CursorPagination):
    ordering = ("name", "id")
    page_size = 50


class BarePatientViewSet(viewsets.ModelViewSet):
    queryset = Patient.objects.all()
    serializer_class = BarePatientSerializer
    authentication_classes = [TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = BareCursor
    filter_backends = [filters.SearchFilter]  # only acts on ?search=
    search_fields = ["name", "phone"]


router = routers.SimpleRouter()
router.register("patients", BarePatientViewSet, basename="bare-patient")
urlpatterns = [path("bare/", include(router.urls)), *clinic_urlpatterns]
