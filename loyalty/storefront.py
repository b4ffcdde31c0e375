"""The shopper's doors to the program, through the app proxy (shop_app.proxy):

- `GET /proxy/loyalty?locale=`: balance, pending, tier and progress, ways to earn (done or not),
  rewards; a guest gets the program without a balance.
- `POST /proxy/loyalty/join` `{"notice_version"}`: opt in, the financial-incentive notice of that
  version having been shown; points for joining, once.
- `POST /proxy/loyalty/redeem` `{"reward_id", "idempotency_key"}`: the code, the points spent and
  the new balance; 409 with nothing reserved when short; the same key again answers the same code.

Profile facts for points go through `POST /proxy/profile` (personalize); their award reaches
loyalty through webhooks.reactions.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from loyalty.earning import member_join
from loyalty.ledger import Balances, LedgerError, NotEnoughPoints
from loyalty.models import Redemption
from loyalty.redemption import redeem
from loyalty.widget import widget_for, widget_language
from shop_app.proxy import StorefrontVisit, proxy_error, proxy_json_body, storefront_view


@require_GET
@storefront_view
def proxy_loyalty(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    language = widget_language(request.GET.get("locale", ""), request.headers.get("Accept-Language", ""))
    return JsonResponse(widget_for(visit.shop, visit.customer_id, language))


@csrf_exempt  # the app proxy's signature stands in for a CSRF token: only Shopify can sign
@require_POST
@storefront_view
def proxy_loyalty_join(request: HttpRequest, visit: StorefrontVisit) -> HttpResponse:
    if visit.customer_id is None:
        return proxy_error("customer", "sign in to join", status=401)
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    version = body.get("notice_version")
    if not isinstance(version, str):
        return proxy_error("notice_version", "must be the version of the notice shown")
    try:
        member_join(visit.shop, visit.customer_id, version)
    except LedgerError as error:
        return proxy_error(error.field, error.message)
    return JsonResponse(
        widget_for(visit.shop, visit.customer_id, widget_language(request.GET.get("locale", "")))
    )


@csrf_exempt  # the app proxy's signature stands in for a CSRF token
@require_POST
@storefront_view
def proxy_loyalty_redeem(  # noqa: PLR0911 - each refusal answers its own status
    request: HttpRequest, visit: StorefrontVisit
) -> HttpResponse:
    if visit.customer_id is None:
        return proxy_error("customer", "sign in to redeem points", status=401)
    body = proxy_json_body(request)
    if isinstance(body, JsonResponse):
        return body
    reward_id = body.get("reward_id")
    if isinstance(reward_id, bool) or not isinstance(reward_id, int) or not 0 < reward_id < 2**63:
        return proxy_error("reward_id", "must be a reward's id")
    try:
        result = redeem(visit.shop, visit.customer_id, reward_id, body.get("idempotency_key"))  # type: ignore[arg-type]
    except NotEnoughPoints as short:
        return JsonResponse(
            {
                "error": {"field": "points", "message": short.message},
                "available": short.available,
                "needed": short.needed,
            },
            status=409,
        )
    except LedgerError as error:
        return proxy_error(error.field, error.message)
    redemption = result.redemption
    if redemption.status == Redemption.Status.FAILED:
        return JsonResponse(
            {
                "error": {
                    "field": "reward_id",
                    "message": "the reward could not be issued; your points are back",
                },
                "balance": _balance(result.balances),
            },
            status=502,
        )
    return JsonResponse(
        {
            "redemption_id": redemption.pk,
            "status": redemption.status,
            "code": redemption.code or None,
            "store_credit": redemption.reward.kind == "store_credit",
            "points_spent": redemption.points,
            "expires_at": redemption.expires_at.isoformat() if redemption.expires_at else None,
            "balance": _balance(result.balances),
        }
    )


def _balance(balances: Balances) -> dict[str, int]:
    return {"available": balances.available, "pending": balances.pending, "lifetime": balances.lifetime}
