from django.urls import path

from webhooks import api, views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.webhook_receive, name="receive"),
    path("webhooks", views.webhook_receive),
    path("api/webhook-events", api.WebhookEventListApi.as_view(), name="api_webhook_events"),
    path(
        "api/webhook-events/<int:event_id>/replay",
        api.WebhookEventReplayApi.as_view(),
        name="api_webhook_event_replay",
    ),
    path("api/privacy-requests", api.PrivacyRequestListApi.as_view(), name="api_privacy_requests"),
    path(
        "api/privacy-requests/<int:request_id>/export",
        api.PrivacyRequestExportApi.as_view(),
        name="api_privacy_request_export",
    ),
]
