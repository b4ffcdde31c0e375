"""503, not 500, for a request that lost its database (refused, cut off, a failover): the caller
may send it again, as Shopify does a webhook and App Bridge or the storefront can. A request cut
off inside a transaction wrote nothing, since PostgreSQL rolls back what the lost connection held,
so sending it again is safe (tests/proof/test_database_unreachable.py). Webhook intake answers its
own 503 before this is reached (webhooks.views)."""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# When to try again: about what a database restart or failover takes.
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "%s %s: database unavailable, answered 503", request.method, request.path, exc_info=exception
        )
        response = JsonResponse({"error": {"message": "unavailable for a moment: try again"}}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
