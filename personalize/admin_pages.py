"""The Customers pages of the embedded admin: find a shopper and see the segments (the list reads
personalize.api), and one shopper's profile, told and inferred side by side (rendered here)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from personalize.customers import customer_detail, fact_display
from personalize.models import Fact, FactSource, Profile
from personalize.profiles import segment_rules
from personalize.rules import BLOCKS
from shop_app.admin import NavItem, admin_page, embedded_page
from shop_app.models import Shop

CUSTOMERS_NAV = NavItem(label=gettext_noop("Customers"), path="/customers", order=10)
PERSONALIZATION_NAV = NavItem(label=gettext_noop("Personalization"), path="/personalization", order=20)

# The words the list's script shows, translated on the server (the script has no catalog).
SEGMENT_WORDS = {
    "": _("No orders yet"),
    "new": _("New"),
    "active": _("Active"),
    "loyal": _("Loyal"),
    "champion": _("Champion"),
    "at_risk": _("At risk"),
    "lapsed": _("Lapsed"),
    "one_time": _("One-time"),
}
RULE_WORDS = {
    "new": _("First order in the last 30 days"),
    "lapsed": _("No order for more than 3 typical gaps (and at least 180 days)"),
    "at_risk": _("Two orders or more, none for more than 1.5 typical gaps (and at least 60 days)"),
    "one_time": _("One order"),
    "champion": _("Recency, frequency and spend scores all 4 or 5"),
    "loyal": _("Frequency score 4 or 5"),
    "active": _("Everyone else who bought"),
}
FACT_WORDS = {
    Fact.Name.BIRTHDAY: _("Birthday"),
    Fact.Name.GENDER: _("Gender"),
    Fact.Name.REGION: _("Home region"),
    Fact.Name.SIZES: _("Sizes"),
    Fact.Name.FAVOURITE_CATEGORIES: _("Favourite categories"),
    Fact.Name.EXCLUDED_CATEGORIES: _("Not for me"),
    Fact.Name.TOPICS: _("Newsletter topics"),
    Fact.Name.QUIZ: _("Quiz answers"),
}
SOURCE_WORDS = {
    FactSource.STOREFRONT: _("the shopper, on the storefront"),
    FactSource.QUIZ: _("the shopper, in the quiz"),
    FactSource.ADMIN: _("you, in the admin"),
    FactSource.IMPORT: _("an import"),
    FactSource.NEWSLETTER: _("the shopper, confirming a newsletter"),
}
VALUE_WORDS = {
    "female": _("Female"),
    "male": _("Male"),
    "non_binary": _("Non-binary"),
    "prefer_not_to_say": _("Prefer not to say"),
    "budget": _("Budget"),
    "mid": _("Mid-range"),
    "premium": _("Premium"),
    "tropical": _("Tropical"),
    "arid": _("Arid"),
    "temperate": _("Temperate"),
    "continental": _("Continental"),
    "polar": _("Polar"),
    "north": _("Northern hemisphere"),
    "south": _("Southern hemisphere"),
    "told": _("told"),
    "last order's shipping address": _("last order's shipping address"),
    "customer address": _("customer address"),
}
LIST_WORDS = {
    "name": _("Name"),
    "email": _("Email"),
    "segment": _("Segment"),
    "orders": _("Orders"),
    "spent": _("Spent"),
    "predicted": _("Predicted 365-day value"),
    "churn": _("Churn risk"),
    "last_order": _("Last order"),
    "rule": _("Rule"),
    "shoppers": _("Shoppers"),
    "none_found": _("No customer matches."),
    "computing": _("Computing profiles: {done} of {total} shoppers"),
    "computed": _("Profiles computed {when}"),
    "not_computed": _("Profiles are computed once your history is imported."),
    "failed": _("Could not load customers. Try again."),
}


@require_GET
@embedded_page
def customers_page(request: HttpRequest, shop: Shop) -> HttpResponse:
    """/customers: search, segment sizes and their rules."""
    # Lazy until the page renders in the merchant's language (json_script's encoder reads them).
    words = {"list": LIST_WORDS, "segments": SEGMENT_WORDS, "rules": RULE_WORDS}
    return admin_page(
        request,
        "personalize/customers.html",
        shop,
        title=gettext_noop("Customers"),
        context={"words": words, "segments": [segment for segment, _rule in segment_rules()]},
    )


def in_words(value: str) -> object:
    """A stored value (a gender, a price band, a climate) in the merchant's words: lazy, so that
    it is translated when the page renders in their language."""
    return VALUE_WORDS.get(value, value)


@require_GET
@embedded_page
def customer_page(request: HttpRequest, shop: Shop, customer_shopify_id: int) -> HttpResponse:
    """/customers/<id>: what the shopper told and what their orders suggest, side by side, with
    where each came from; predicted value and churn risk; their newest orders."""
    detail = customer_detail(shop, customer_shopify_id)
    if detail is None:
        raise Http404("no such customer")
    told = [
        {
            "label": FACT_WORDS.get(name, name),
            "value": in_words(fact_display(name, fact.value)),
            "source": SOURCE_WORDS.get(fact.source, fact.source),
            "stated_at": fact.stated_at,
            "consent_version": fact.consent.version if fact.consent else "",
        }
        for name, fact in sorted(detail["told"].items())
    ]
    history = [
        {
            "label": FACT_WORDS.get(fact.name, fact.name),
            "value": in_words(fact_display(fact.name, fact.value)),
            "withdrawn": fact.withdrawn,
            "source": SOURCE_WORDS.get(fact.source, fact.source),
            "stated_at": fact.stated_at,
        }
        for fact in detail["history"]
    ]
    profile: Profile | None = detail["profile"]
    return admin_page(
        request,
        "personalize/customer.html",
        shop,
        title=gettext_noop("Customer"),
        context={
            "detail": detail,
            "told": told,
            "history": history,
            "profile": profile,
            "segment_word": SEGMENT_WORDS.get(profile.segment if profile else "", ""),
            "words": {
                field: in_words(getattr(profile, field))
                for field in ("price_band", "climate_band", "hemisphere", "region_source")
            }
            if profile
            else {},
            "churn_percent": round(profile.churn_risk * 100)
            if profile and profile.churn_risk is not None
            else None,
        },
    )


PERSONALIZATION_WORDS = {
    "saved": _("Rules saved"),
    "quiz_saved": _("Quiz saved"),
    "product": _("Product"),
    "why": _("Why"),
    "kind": _("Kind"),
    "nothing": _("Nothing to propose to this shopper in this block."),
    "failed": _("Could not load the preview. Try again."),
    "block": _("Block"),
    "impressions": _("Impressions"),
    "clicks": _("Clicks"),
    "click_rate": _("Click rate"),
    "orders": _("Attributed orders"),
    "revenue": _("Attributed revenue"),
    "no_events": _("No impressions yet: add the blocks to your theme."),
    "chart": _("Daily clicks and attributed revenue"),
    "day": _("Day"),
    "question": _("Question"),
    "single": _("One answer"),
    "multiple": _("Several answers"),
    "answer": _("Answer"),
    "product_types": _("Product types (comma-separated)"),
    "tags": _("Tags (comma-separated)"),
    "add_answer": _("Add an answer"),
    "remove": _("Remove"),
}


@require_GET
@embedded_page
def personalization_page(request: HttpRequest, shop: Shop) -> HttpResponse:
    """/personalization: what the blocks do, the merchant's rules and quiz (each form with the
    contextual save bar) and a preview of what a shopper sees."""
    return admin_page(
        request,
        "personalize/personalization.html",
        shop,
        title=gettext_noop("Personalization"),
        context={"words": PERSONALIZATION_WORDS, "blocks": BLOCKS},
    )
