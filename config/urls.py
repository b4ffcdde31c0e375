import re

from django.urls import include, path, re_path

from config.health import healthz
from shop_app.proxy import PROXY_ROUTE, proxy_not_found

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("shop_app.urls")),
    path("", include("webhooks.urls")),
    path("", include("commerce.urls")),
    path("", include("privacy.urls")),
    path("", include("personalize.urls")),
    path("", include("loyalty.urls")),
    path("", include("newsletters.urls")),
    path("", include("overview.urls")),
    # Last: any other address under the app proxy is a plain 404, even with DEBUG on, since the
    # storefront shows the shopper whatever we answer.
    re_path(rf"^{re.escape(PROXY_ROUTE)}(?:/.*)?$", proxy_not_found, name="proxy_not_found"),
]
