"""The pages every email links to, opened by a signed, scoped token (newsletters.tokens) with no
login, in the reader's language:

- `/newsletters/confirm/<token>`: GET shows the topics asked for and a button; only its POST
  confirms (link scanners follow links, so a GET never changes anything).
- `/newsletters/preferences/<token>`: the preference center: topics, cadence, pause; leave one
  or all. Saving touches only the topics the page showed.
- `/newsletters/unsubscribe/<token>`: RFC 8058 one-click: a POST (no cookie, no CSRF token)
  leaves the token's topic (or all) and answers 200; a GET shows a page whose button POSTs.
- `/newsletters/click/<token>`: counts a click on a pick and redirects to the storefront.

Django's CSRF middleware is not installed (the admin's APIs use session tokens); these forms are
authorized by the token in their address, which only the reader's mailbox holds.
"""

from __future__ import annotations

from datetime import date

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from newsletters.content import (
    CLICK_SALT,
    cadence_word,
    newsletter_settings,
    reader_language,
    storefront_url,
)
from newsletters.models import Delivery, Subscription, SubscriptionStatus, Topic
from newsletters.subscriptions import (
    PAUSE_DAYS_MAX,
    Requester,
    SubscriptionError,
    TopicPreference,
    preferences_save,
    subscriber_leave_all,
    subscription_leave,
    subscriptions_confirm,
    subscriptions_for,
    subscriptions_pending,
    topics_active,
)
from newsletters.tokens import LinkToken, TokenInvalid, token_make, token_read
from shop_app.proxy import client_address

PREFERENCES_CONSENT_VERSION = "preference-center-1"
PAUSES = (0, 30, 90)
NO_STORE = "private, no-store"


def _page(
    request: HttpRequest, link: LinkToken | None, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    language = reader_language(
        link.subscriber.language if link else request.headers.get("Accept-Language", "")[:2]
    )
    with translation.override(language):
        shop = link.shop if link else None
        sending = newsletter_settings(shop) if shop else None
        response = render(
            request,
            template,
            {
                "language": language,
                "shop_name": (sending.sender_name if sending else "") or (shop.name if shop else "") or "",
                "shop_url": storefront_url(shop, "/") if shop else "",
                **context,
            },
            status=status,
        )
    response["Cache-Control"] = NO_STORE
    # The token is in the address: no other site learns it through Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _link(request: HttpRequest, token: str, scope: str) -> LinkToken | HttpResponse:
    try:
        return token_read(token, scope)
    except TokenInvalid:
        return _page(request, None, "newsletters/link_invalid.html", {}, status=404)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(request, token, "confirm")
    if isinstance(link, HttpResponse):
        return link
    confirmed = []
    if request.method == "POST":
        confirmed = subscriptions_confirm(link.subscriber)
    language = reader_language(link.subscriber.language)
    pending = subscriptions_pending(link.subscriber)
    return _page(
        request,
        link,
        "newsletters/confirm.html",
        {
            "pending": [_topic_line(s.topic, s.cadence, language) for s in pending],
            "confirmed": [_topic_line(s.topic, s.cadence, language) for s in confirmed],
            "posted": request.method == "POST",
            "manage_url": f"/newsletters/preferences/{token_make(link.subscriber, 'manage')}",
        },
    )


def _topic_line(topic: Topic, cadence: str, language: str) -> dict[str, str]:
    with translation.override(language):
        return {
            "name": topic.in_language("names", language),
            "cadence": cadence_word(cadence),
        }


@csrf_exempt
@require_http_methods(["GET", "POST"])
def preferences_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(request, token, "manage")
    if isinstance(link, HttpResponse):
        return link
    subscriber = link.subscriber
    language = reader_language(subscriber.language)
    with translation.override(language):
        consent_text = _(
            "I would like these newsletters by email, at the cadence I chose. "
            "I can change or leave them at any time."
        )
    saved, error = False, ""
    if request.method == "POST":
        try:
            if request.POST.get("leave_all"):
                subscriber_leave_all(subscriber, "reader")
            else:
                preferences_save(
                    subscriber,
                    _preferences_read(request),
                    (consent_text, PREFERENCES_CONSENT_VERSION, language),
                    Requester(client_address(request), request.headers.get("User-Agent", "")[:512]),
                )
            saved = True
        except SubscriptionError as refused:
            error = f"{refused.field}: {refused.message}"
    held = subscriptions_for(subscriber)
    today = timezone.localdate()
    with translation.override(language):
        topics = [
            {
                "id": topic.pk,
                "name": topic.in_language("names", language),
                "description": topic.in_language("descriptions", language),
                "cadences": [{"value": c, "label": cadence_word(c)} for c in topic.cadences],
                "subscribed": topic.pk in held and held[topic.pk].status == SubscriptionStatus.CONFIRMED,
                "pending": topic.pk in held and held[topic.pk].status == SubscriptionStatus.PENDING,
                "cadence": held[topic.pk].cadence
                if topic.pk in held
                else topic.cadences[0]
                if topic.cadences
                else "",
                "paused_until": _paused_until(held.get(topic.pk), today),
            }
            for topic in topics_active(link.shop)
        ]
    return _page(
        request,
        link,
        "newsletters/preferences.html",
        {
            "topics": topics,
            "saved": saved,
            "error": error,
            "consent_text": consent_text,
            "pauses": PAUSES,
            "email": subscriber.email,
        },
        status=400 if error else 200,
    )


def _paused_until(subscription: Subscription | None, today: date) -> date | None:
    until = subscription.paused_until if subscription is not None else None
    return until if until is not None and until > today else None


def _preferences_read(request: HttpRequest) -> list[TopicPreference]:
    """The form: `shown` lists the topics the page showed; `topic_<id>` ticks one, `cadence_<id>`
    and `pause_<id>` (days) set it."""
    shown = []
    for index, raw in enumerate(request.POST.getlist("shown")[:50]):
        if not raw.isdigit():
            raise SubscriptionError(f"topics[{index}].id", "is not a topic of this shop")
        topic_id = int(raw)
        pause = request.POST.get(f"pause_{topic_id}", "0") or "0"
        if not pause.isdigit() or int(pause) > PAUSE_DAYS_MAX:
            raise SubscriptionError(f"topics[{index}].pause", f"must be 0 to {PAUSE_DAYS_MAX} days")
        shown.append(
            TopicPreference(
                topic_id=topic_id,
                subscribed=bool(request.POST.get(f"topic_{topic_id}")),
                cadence=request.POST.get(f"cadence_{topic_id}", ""),
                pause_days=int(pause),
            )
        )
    return shown


@csrf_exempt  # RFC 8058: the one-click POST comes from the mailbox provider, with no cookie or token
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(request, token, "unsubscribe")
    if isinstance(link, HttpResponse):
        return link
    language = reader_language(link.subscriber.language)
    topic = Topic.objects.for_shop(link.shop).filter(pk=link.topic_id).first() if link.topic_id else None
    done = False
    if request.method == "POST":
        # RFC 8058's body is "List-Unsubscribe=One-Click"; the page's own button posts the same.
        if topic is not None:
            subscription_leave(link.subscriber, topic.pk, "one_click")
        else:
            subscriber_leave_all(link.subscriber, "one_click")
        done = True
    return _page(
        request,
        link,
        "newsletters/unsubscribe.html",
        {
            "topic_name": topic.in_language("names", language) if topic else "",
            "done": done,
            "manage_url": f"/newsletters/preferences/{token_make(link.subscriber, 'manage')}",
        },
    )


@require_GET
def click_redirect(request: HttpRequest, token: str) -> HttpResponse:
    """A click on a pick: counted once per delivery, then on to the storefront."""
    try:
        payload = signing.loads(token, salt=CLICK_SALT)
        delivery_pk, target = int(payload["d"]), str(payload["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return HttpResponseBadRequest("This link is not valid.", content_type="text/plain")
    if not target.startswith("/"):
        return HttpResponseBadRequest("This link is not valid.", content_type="text/plain")
    delivery = Delivery.objects.select_related("shop").filter(pk=delivery_pk).first()
    if delivery is None:
        return HttpResponseBadRequest("This link is not valid.", content_type="text/plain")
    Delivery.objects.for_shop(delivery.shop).filter(pk=delivery_pk, clicked_at__isnull=True).update(
        clicked_at=timezone.now()
    )
    return HttpResponseRedirect(storefront_url(delivery.shop, target))
