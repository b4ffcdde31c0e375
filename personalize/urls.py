from django.urls import path

from personalize import admin_pages, api, pixel_views, storefront
from shop_app.proxy import PROXY_ROUTE

app_name = "personalize"

urlpatterns = [
    path("customers", admin_pages.customers_page, name="customers"),
    path("customers/<int:customer_shopify_id>", admin_pages.customer_page, name="customer"),
    path("personalization", admin_pages.personalization_page, name="personalization"),
    path("api/customers", api.CustomersApi.as_view(), name="api_customers"),
    path("api/quiz", api.QuizApi.as_view(), name="api_quiz"),
    path("api/recommendations/stats", api.BlockStatsApi.as_view(), name="api_recommendation_stats"),
    path("api/recommendations/rules", api.RecommendationRulesApi.as_view(), name="api_recommendation_rules"),
    path(
        "api/recommendations/preview",
        api.RecommendationsPreviewApi.as_view(),
        name="api_recommendations_preview",
    ),
    path("api/customers/segments", api.SegmentsApi.as_view(), name="api_customer_segments"),
    path("pixel/events", pixel_views.pixel_events, name="pixel_events"),
    path(f"{PROXY_ROUTE}/profile", storefront.proxy_profile, name="proxy_profile"),
    path(f"{PROXY_ROUTE}/recommendations", storefront.proxy_recommendations, name="proxy_recommendations"),
    path(f"{PROXY_ROUTE}/quiz", storefront.proxy_quiz, name="proxy_quiz"),
    path(f"{PROXY_ROUTE}/quiz/answers", storefront.proxy_quiz_answers, name="proxy_quiz_answers"),
    path(f"{PROXY_ROUTE}/quiz/retry", storefront.proxy_quiz_retry, name="proxy_quiz_retry"),
    path(f"{PROXY_ROUTE}/events", storefront.proxy_events, name="proxy_events"),
    path(
        f"{PROXY_ROUTE}/recommendations/dismiss",
        storefront.proxy_recommendation_dismiss,
        name="proxy_recommendation_dismiss",
    ),
]
