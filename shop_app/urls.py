from django.urls import path

from shop_app import proxy, views
from shop_app.proxy import PROXY_ROUTE

app_name = "shop_app"

urlpatterns = [
    path("", views.app_home, name="home"),
    path("auth/patch-id-token", views.patch_id_token, name="patch_id_token"),
    path("auth/install", views.oauth_install, name="oauth_install"),
    path("auth/callback", views.oauth_callback, name="oauth_callback"),
    path("api/shop", views.ShopApi.as_view(), name="api_shop"),
    path("api/schema/", views.SchemaApi.as_view(), name="api_schema"),
    # Storefront, through Shopify's app proxy (shopify.app.toml's [app_proxy] url).
    path(f"{PROXY_ROUTE}/ping", proxy.proxy_ping, name="proxy_ping"),
]
