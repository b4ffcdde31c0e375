from django.urls import path

from personalize import api

app_name = "personalize"

urlpatterns = [
    path("api/orders", api.RecentOrdersApi.as_view(), name="api_orders"),
]
