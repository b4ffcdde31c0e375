from django.urls import path

from personalize import admin_pages, api, storefront
from shop_app.proxy import PROXY_ROUTE

app_name = "personalize"

urlpatterns = [
    path("customers", admin_pages.customers_page, name="customers"),
    path("customers/<int:customer_shopify_id>", admin_pages.customer_page, name="customer"),
    path("api/customers", api.CustomersApi.as_view(), name="api_customers"),
    path("api/customers/segments", api.SegmentsApi.as_view(), name="api_customer_segments"),
    path(f"{PROXY_ROUTE}/profile", storefront.proxy_profile, name="proxy_profile"),
]
