"""The embedded admin's shell, shared by every module's pages and APIs.

- `shop_from(request)`: the verified shop of a request, typed; the one way a view reads it.
- `AdminApi`: the one DRF base of the admin's APIs: session-token authentication, the shop, and
  the convention that each API keeps its input and output serializers beside it.
- The navigation: each module registers its pages (`admin_nav_register`, in its AppConfig.ready);
  the shell renders them as App Bridge's navigation menu on every page.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from shop_app.models import Shop
from shop_app.session_auth import SessionTokenAuthentication


def shop_from(request: Request | HttpRequest) -> Shop:
    """The shop a session token verified for this request (set by SessionTokenAuthentication)."""
    shop = getattr(request, "shop", None)
    if not isinstance(shop, Shop):
        raise LookupError("the request carries no verified shop")
    return shop


class AdminApi(APIView):
    """Base of every embedded-admin API: authenticated by Shopify session token, scoped to the
    token's shop. Subclasses validate input with a serializer, call a service, serialize output."""

    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def shop(self, request: Request) -> Shop:
        return shop_from(request)


@dataclass(frozen=True)
class NavItem:
    """One entry of the app's navigation in Shopify admin; `path` is the app's own URL path."""

    label: str
    path: str
    order: int = 100


_NAV: dict[str, NavItem] = {}


def admin_nav_register(item: NavItem) -> None:
    _NAV[item.path] = item


def admin_nav() -> list[NavItem]:
    """The navigation, in order. The first entry is the app's home (Overview), which App Bridge
    shows as the app's name rather than as a link."""
    return sorted(_NAV.values(), key=lambda item: (item.order, item.label))
