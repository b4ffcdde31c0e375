from django.urls import path

from privacy import api

app_name = "privacy"

urlpatterns = [
    path("api/privacy-requests", api.PrivacyRequestListApi.as_view(), name="api_privacy_requests"),
    path(
        "api/privacy-requests/<int:request_id>/export",
        api.PrivacyRequestExportApi.as_view(),
        name="api_privacy_request_export",
    ),
]
