from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

api_v1 = [
    path("", include("patients.api.urls")),
    path("", include("queue_app.api.urls")),
    path("", include("oncology.api.urls")),
    path("", include("documents.api.urls")),
    path("auth/token/", obtain_auth_token, name="api-token"),
]

urlpatterns = [
    # Staff work in the admin; "/" and the admin's "View site" lead there.
    path("", RedirectView.as_view(url=reverse_lazy("admin:index")), name="home"),
    # Django's default login path (screens and bookmarks use it): the admin's login page.
    path(
        "accounts/login/",
        RedirectView.as_view(url=reverse_lazy("admin:login"), query_string=True),
        name="login",
    ),
    path("", include("oncology.admin_urls")),  # before the admin's catch-all patterns
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("queue/", include("queue_app.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
