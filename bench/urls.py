"""The app's URLs, and the bench's baseline: the cheapest answer Django gives through our
middleware, on the same server in the same run as the figures measured against it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/baseline", baseline), *app_urlpatterns]
