"""The Newsletters page of the embedded admin: the sender's details, topics, compose with a live
preview as a chosen reader would get it, the schedule, and per topic over time the figures with a
chart (the page script reads newsletters.api)."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from shop_app.admin import NavItem, admin_page, embedded_page
from shop_app.models import Shop

NEWSLETTERS_NAV = NavItem(label=gettext_noop("Newsletters"), path="/newsletters", order=30)

# The words the page's script shows, translated on the server (the script has no catalog).
NEWSLETTERS_WORDS = {
    "saved": _("Saved"),
    "topic_saved": _("Topic saved"),
    "new_topic": _("New topic"),
    "topic": _("Topic"),
    "readers": _("Readers"),
    "joined": _("Joined"),
    "left": _("Left"),
    "sent": _("Sent"),
    "delivered": _("Delivered"),
    "opened": _("Opened"),
    "clicked": _("Clicked"),
    "next_issues": _("Next issues"),
    "cadence": _("Cadence"),
    "send_at": _("Goes out"),
    "weekly": _("Weekly"),
    "biweekly": _("Every two weeks"),
    "monthly": _("Monthly"),
    "quarterly": _("Quarterly"),
    "a_new_reader": _("A reader with no history"),
    "heading": _("Heading"),
    "body": _("Text"),
    "add_section": _("Add a section"),
    "remove": _("Remove"),
    "chart": _("Readers per topic, by day"),
    "day": _("Day"),
    "failed": _("Could not load. Try again."),
    "no_topics": _("No topics yet: add the first one."),
    "unknown": _("not known"),
}


@require_GET
@embedded_page
def newsletters_page(request: HttpRequest, shop: Shop) -> HttpResponse:
    """/newsletters."""
    return admin_page(
        request,
        "newsletters/admin.html",
        shop,
        title=gettext_noop("Newsletters"),
        context={"words": NEWSLETTERS_WORDS},
    )
