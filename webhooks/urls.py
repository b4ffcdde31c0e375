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
]
