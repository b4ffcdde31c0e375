"""DRF's exception handler, plus Shopify's retry header on every 401 caused by a session token."""

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from shop_app.session_auth import RETRY_HEADER


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is not None and isinstance(
        exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed
    ):
        # App Bridge fetches a fresh session token and retries once when it sees this header.
        response[RETRY_HEADER] = "1"
    return response
