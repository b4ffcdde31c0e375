from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("shop_app.urls")),
    path("", include("webhooks.urls")),
    path("", include("commerce.urls")),
]
