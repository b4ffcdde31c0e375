from django.urls import path

from loyalty import admin_pages, api, storefront
from shop_app.proxy import PROXY_ROUTE

app_name = "loyalty"

urlpatterns = [
    path("loyalty", admin_pages.loyalty_page, name="loyalty"),
    path("api/loyalty/program", api.ProgramApi.as_view(), name="api_program"),
    path("api/loyalty/rewards", api.RewardsApi.as_view(), name="api_rewards"),
    path("api/loyalty/rewards/<int:reward_id>", api.RewardApi.as_view(), name="api_reward"),
    path("api/loyalty/tiers", api.TiersApi.as_view(), name="api_tiers"),
    path("api/loyalty/tiers/<int:tier_id>", api.TierApi.as_view(), name="api_tier"),
    path("api/loyalty/customers/<int:customer_id>", api.CustomerLedgerApi.as_view(), name="api_customer"),
    path(
        "api/loyalty/customers/<int:customer_id>/adjustments",
        api.AdjustmentsApi.as_view(),
        name="api_adjustments",
    ),
    path("api/loyalty/figures", api.FiguresApi.as_view(), name="api_figures"),
    path("api/loyalty/preview", api.PreviewApi.as_view(), name="api_preview"),
    path(f"{PROXY_ROUTE}/loyalty", storefront.proxy_loyalty, name="proxy_loyalty"),
    path(f"{PROXY_ROUTE}/loyalty/join", storefront.proxy_loyalty_join, name="proxy_loyalty_join"),
    path(f"{PROXY_ROUTE}/loyalty/redeem", storefront.proxy_loyalty_redeem, name="proxy_loyalty_redeem"),
]
