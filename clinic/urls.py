from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic.api.auth_views import LogoutAllView, LogoutView, TokenView

api_v1 = [
    path("", include("patients.api.urls")),
    path("", include("queue_app.api.urls")),
    path("", include("oncology.api.urls")),
    path("", include("documents.api.urls")),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="api-logout-all"),
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
    # The split view serves its start-up script as a file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]


def handler404(request, exception=None):
    """A 404 outside any API view (an address no route matches) keeps the API's error shape."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        body = {"error": {"code": "not_found", "message": "No such address.", "fields": {}}}
        return JsonResponse(body, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
