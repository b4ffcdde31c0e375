"""The Loyalty page of the embedded admin: ways to earn, rewards, tiers, birthday, expiry and
refund policy, a live preview of the storefront widget, a customer's ledger with manual
adjustment, and the program's figures. The page's script reads and writes loyalty.api."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from loyalty.models import Program, Reward
from loyalty.program import PROFILE_WAYS
from shop_app.admin import NavItem, admin_page, embedded_page
from shop_app.models import Shop

LOYALTY_NAV = NavItem(label=gettext_noop("Loyalty"), path="/loyalty", order=30)

# The words the page's script shows, translated on the server (the script has no catalog).
LOYALTY_WORDS = {
    "saved": _("Saved"),
    "failed": _("Could not load. Try again."),
    "name": _("Name"),
    "kind": _("Kind"),
    "value": _("Value"),
    "cost": _("Points"),
    "minimum": _("Minimum order"),
    "active": _("Active"),
    "threshold": _("Threshold"),
    "multiplier": _("Multiplier"),
    "benefits": _("Benefits"),
    "when": _("When"),
    "cause": _("Cause"),
    "points": _("Points"),
    "reason": _("Reason"),
    "by": _("By"),
    "available": _("Available"),
    "pending": _("Pending"),
    "lifetime": _("Lifetime"),
    "debt": _("Debt"),
    "tier": _("Tier"),
    "not_member": _("This customer has no points yet."),
    "liability": _("Points liability"),
    "redemption_rate": _("Redemption rate"),
    "repeat_members": _("Repeat rate, members"),
    "repeat_others": _("Repeat rate, non-members"),
    "repeat_holdout": _("Repeat rate, holdout group"),
    "members": _("Members"),
    "remove": _("Remove"),
    "withdraw": _("Withdraw"),
    "ways": _("Ways to earn"),
    "rewards": _("Rewards"),
    "code": _("Code"),
    "status": _("Status"),
    "adjusted": _("Points adjusted"),
}
KIND_WORDS = {
    Reward.Kind.FIXED_AMOUNT: _("Amount off"),
    Reward.Kind.PERCENTAGE: _("Percentage off"),
    Reward.Kind.FREE_SHIPPING: _("Free shipping"),
    Reward.Kind.STORE_CREDIT: _("Store credit"),
}
EXPIRY_WORDS = {
    Program.ExpiryMode.NEVER: _("Never"),
    Program.ExpiryMode.LOT: _("A set time after they are earned"),
    Program.ExpiryMode.INACTIVITY: _("After a set time without activity"),
}
REFUND_WORDS = {
    Program.RefundPolicy.NEGATIVE: _("Take the points back, even below zero"),
    Program.RefundPolicy.STOP_AT_ZERO: _("Stop at zero and record the debt"),
}
UNUSED_WORDS = {
    Program.UnusedCodePolicy.RETURN: _("Give the points back"),
    Program.UnusedCodePolicy.FORFEIT: _("The points are lost"),
}
TIER_BASIS_WORDS = {
    Program.TierBasis.POINTS: _("Points earned"),
    Program.TierBasis.SPEND: _("Spend"),
}


@require_GET
@embedded_page
def loyalty_page(request: HttpRequest, shop: Shop) -> HttpResponse:
    return admin_page(
        request,
        "loyalty/loyalty.html",
        shop,
        title=gettext_noop("Loyalty"),
        context={
            "words": LOYALTY_WORDS,
            "kinds": KIND_WORDS,
            "expiry_modes": EXPIRY_WORDS,
            "refund_policies": REFUND_WORDS,
            "unused_policies": UNUSED_WORDS,
            "tier_bases": TIER_BASIS_WORDS,
            "profile_ways": [(name, asks, why) for name, (asks, why) in PROFILE_WAYS.items()],
        },
    )
