"""`POST /pixel/events`: the web pixel's door, on the app's own domain (personalize.pixel).

Browsers call it across origins, so it answers CORS itself: the preflight (`OPTIONS`) and the post
get `Access-Control-Allow-Origin` only for one of the shop's storefront origins; any other origin
is refused (403). Which shop is asked is known from the key, in the body: the preflight carries no
body, so it is answered for the storefront origin of any installed shop, and the post then checks
the origin against that key's shop.

Answers: 204 stored (or already stored), 400 `{"error": {"field", "message"}}` with nothing stored,
403 an origin that is not the shop's, 404 an unknown key, 413 a body over the limit, 429 over the
rate (with Retry-After).
"""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from personalize.pixel import (
    BODY_MAX_BYTES,
    RATE_WINDOW_SECONDS,
    PixelInputError,
    browsing_batch_clean,
    browsing_events_record,
    origin_of,
    pixel_for_key,
    pixel_origins,
    pixel_rate_allow,
    storefront_origin_known,
)

PREFLIGHT_MAX_AGE = 600


def _refused(field: str, message: str, status: int, origin: str = "") -> HttpResponse:
    response = JsonResponse({"error": {"field": field, "message": message}}, status=status)
    return _cors(response, origin) if origin else response


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@csrf_exempt  # a cross-origin endpoint for the pixel: no cookies are read, the key names the shop
@require_http_methods(["POST", "OPTIONS"])
def pixel_events(request: HttpRequest) -> HttpResponse:  # noqa: PLR0911 - one answer per refusal
    origin = origin_of(request.headers["Origin"]) if request.headers.get("Origin") else ""
    if request.method == "OPTIONS":
        if not storefront_origin_known(origin):
            return HttpResponse(status=403)
        response = _cors(HttpResponse(status=204), origin)
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response
    length = request.headers.get("Content-Length", "")
    if not length.isdigit() or int(length) > BODY_MAX_BYTES:
        return _refused("body", f"must be at most {BODY_MAX_BYTES} bytes, with its length", 413)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return _refused("body", "must be JSON", 400)
    pixel = pixel_for_key(body.get("key") if isinstance(body, dict) else None)
    if pixel is None:
        return _refused("key", "is not a shop's pixel key", 404)
    if origin not in pixel_origins(pixel):
        # No CORS header: the browser hides the answer from a script on another origin.
        return _refused("origin", "is not the shop's storefront", 403)
    try:
        batch = browsing_batch_clean(pixel.shop, body)
    except PixelInputError as error:
        return _refused(error.field, error.message, 400, origin)
    if not pixel_rate_allow(pixel.key, batch.client_ids[0], request.META.get("REMOTE_ADDR", "")):
        response = _refused("rate", "too many events; try again in a minute", 429, origin)
        response["Retry-After"] = str(RATE_WINDOW_SECONDS)
        return response
    browsing_events_record(pixel.shop, batch)
    return _cors(HttpResponse(status=204), origin)
