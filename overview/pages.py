"""The Overview, the embedded admin's home: the first-run checklist and what Omakase earns, above
the shop's operations (shop_app/home.html, which this page extends). App Home renders it through
the page registered in apps.py (shop_app.views.app_home_page_register)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from personalize.admin_pages import FACT_WORDS, SEGMENT_WORDS
from shop_app.admin import admin_page
from shop_app.models import Shop

# The words the page's script shows, translated on the server (the script has no catalog).
STEP_WORDS = {
    "import": (
        _("Import your store's history"),
        _("Customers and orders, so profiles and picks start from what shoppers bought."),
    ),
    "app_embed": (
        _("Turn on the Omakase app embed"),
        _("In your theme's App embeds. It carries what every block needs."),
    ),
    "blocks": (
        _("Place a block of picks"),
        _("Add “Picked for you” to your home page; more blocks are in the theme editor."),
    ),
    "loyalty": (_("Set up loyalty"), _("Ways to earn and at least one reward.")),
    "topic": (
        _("Create a newsletter topic"),
        _("Shoppers subscribe to the topics they want, at their own cadence."),
    ),
}
BLOCK_WORDS = {
    "for-you": _("Picked for you"),
    "because-you-bought": _("Because you bought"),
    "back-in-size": _("Back in your size"),
    "seasonal": _("Seasonal"),
    "trending": _("Trending"),
}
WORDS = {
    "done": _("Done"),
    "to_do": _("To do"),
    "unknown": _("Unknown"),
    "start": _("Start"),
    "open_theme_editor": _("Open theme editor"),
    "steps_done": _("%(done)s of %(total)s steps done"),
    "all_done": _("You're all set: shoppers see Omakase on your store."),
    "theme_unknown": _("We couldn't read your theme from Shopify just now. Reload the page to try again."),
    "checklist_error": _("The checklist is unavailable right now. Reload the page to try again."),
    "figures_error": _("The figures are unavailable right now. Reload the page to try again."),
    "preparing": _(
        "Your figures are being prepared from your store's history. They appear here in a few minutes."
    ),
    "previous": _("Previous period"),
    "this_period": _("This period"),
    "change": _("Change"),
    "no_change": _("No change"),
    "not_known": _("Not known yet"),
    "day": _("Day"),
    "block": _("Block"),
    "impressions": _("Impressions"),
    "clicks": _("Clicks"),
    "click_rate": _("Click rate"),
    "attributed_revenue": _("Attributed revenue"),
    "orders": _("Orders"),
    "topic": _("Topic"),
    "subscribers": _("Subscribers"),
    "points_issued": _("Points issued"),
    "points_redeemed": _("Points redeemed"),
    "points_outstanding": _("Points outstanding"),
    "members": _("Members"),
    "non_members": _("Non-members"),
    "repeat_rate": _("Repeat purchase rate"),
    "group": _("Group"),
    "fact": _("Told fact"),
    "share": _("Share of shoppers"),
    "segment": _("Segment"),
    "shoppers": _("Shoppers"),
    "show_table": _("Show the figures as a table"),
    "no_blocks": _("No block was seen in this period. Place a block of picks to start."),
    "no_topics": _("No newsletter topics yet. Create one in Newsletters."),
    "no_segments": _("Segments appear once profiles are computed from your orders."),
    "no_facts": _("No shopper has told you anything yet. The quiz and the preferences block ask."),
    "range_error": _("Choose a start date on or before the end date, at most a year apart."),
}


def overview_home(request: HttpRequest, shop: Shop, newly_installed: bool) -> HttpResponse:
    # Lazy strings: json_script renders them in the merchant's language, inside admin_page.
    words: dict[str, Promise] = dict(WORDS)
    words.update({f"step_{key}": title for key, (title, _help) in STEP_WORDS.items()})
    words.update({f"step_{key}_help": help_text for key, (_title, help_text) in STEP_WORDS.items()})
    words.update({f"segment_{key}": value for key, value in SEGMENT_WORDS.items()})
    words.update({f"fact_{key}": value for key, value in FACT_WORDS.items()})
    words.update({f"block_{key}": value for key, value in BLOCK_WORDS.items()})
    return admin_page(
        request,
        "overview/overview.html",
        shop,
        title="Overview",
        context={"newly_installed": newly_installed, "words": words},
    )
