from django.urls import path

from commerce import api

app_name = "commerce"

urlpatterns = [
    path("api/orders", api.RecentOrdersApi.as_view(), name="api_orders"),
    path("api/import", api.ImportApi.as_view(), name="api_import"),
    path("api/products", api.ProductsApi.as_view(), name="api_products"),
]
