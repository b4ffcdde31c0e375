from django.urls import path

app_name = "shop_app"

urlpatterns: list[path] = []  # type: ignore[valid-type]
