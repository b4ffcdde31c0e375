from django.urls import path

from newsletters import admin_pages, api, pages, storefront
from shop_app.proxy import PROXY_ROUTE

app_name = "newsletters"

urlpatterns = [
    path(f"{PROXY_ROUTE}/newsletters/topics", storefront.proxy_topics, name="proxy_topics"),
    path(
        f"{PROXY_ROUTE}/newsletters/subscriptions", storefront.proxy_subscriptions, name="proxy_subscriptions"
    ),
    path("newsletters/confirm/<str:token>", pages.confirm_page, name="confirm"),
    path("newsletters/preferences/<str:token>", pages.preferences_page, name="preferences"),
    path("newsletters/unsubscribe/<str:token>", pages.unsubscribe_page, name="unsubscribe"),
    path("newsletters/click/<str:token>", pages.click_redirect, name="click"),
    path("newsletters", admin_pages.newsletters_page, name="admin"),
    path("api/newsletters/topics", api.NewslettersTopicsApi.as_view(), name="api_topics"),
    path("api/newsletters/topics/<int:topic_id>", api.NewslettersTopicApi.as_view(), name="api_topic"),
    path(
        "api/newsletters/topics/<int:topic_id>/preview",
        api.NewslettersPreviewApi.as_view(),
        name="api_preview",
    ),
    path("api/newsletters/settings", api.NewslettersSettingsApi.as_view(), name="api_settings"),
    path("api/newsletters/stats", api.NewslettersStatsApi.as_view(), name="api_stats"),
]
