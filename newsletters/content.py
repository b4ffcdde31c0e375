"""What each email says, made for its reader: HTML and plain text in their language, the picks of
the topic's products for them with the reason for each, and what every marketing email carries:
RFC 8058 one-click unsubscribe (List-Unsubscribe with an https URL and a mailto,
List-Unsubscribe-Post), a List-Id per topic, a visible unsubscribe link, and the footer (sender,
postal address, contact, how to opt out) that Japanese and US law require.

The confirmation email carries no marketing: the topics asked for, and the link to confirm.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from commerce.models import CollectionMembership, Product
from newsletters.frames import Frame, Slots
from newsletters.mime import WrittenEmail
from newsletters.models import Cadence, Issue, NewsletterSettings, Subscriber, Subscription, Topic
from newsletters.tokens import token_make, token_signer
from personalize.picks import picks_as_json, picks_names, picks_within_many
from shop_app.models import Shop

LANGUAGES = ("en", "ja")
CADENCE_WORDS: dict[str, Any] = {
    Cadence.WEEKLY: _("Weekly"),
    Cadence.BIWEEKLY: _("Every two weeks"),
    Cadence.MONTHLY: _("Monthly"),
    Cadence.QUARTERLY: _("Quarterly"),
}
CLICK_SALT = "newsletters:click"


def cadence_word(cadence: str) -> str:
    """The cadence in the active language."""
    return str(CADENCE_WORDS.get(cadence, cadence))


def reader_language(language: str) -> str:
    language = (language or "en").split("-")[0].lower()
    return language if language in LANGUAGES else "en"


def app_url(path: str) -> str:
    return settings.APP_URL.rstrip("/") + path


def _message_domain() -> str:
    return urlsplit(settings.APP_URL).hostname or "omakase"


def storefront_url(shop: Shop, path: str) -> str:
    """An address on the shop's storefront (devstore's, when it stands in for Shopify)."""
    base = settings.SHOPIFY_BASE_URL_OVERRIDE.rstrip("/") or f"https://{shop.domain}"
    return base + path


def newsletter_settings(shop: Shop) -> NewsletterSettings:
    found = NewsletterSettings.objects.for_shop(shop).first()
    return found if found is not None else NewsletterSettings(shop=shop)


def sender_of(shop: Shop, sending: NewsletterSettings) -> str:
    name = (sending.sender_name or shop.name or shop.domain).replace('"', "")
    return f'"{name}" <{sending.from_email or settings.DEFAULT_FROM_EMAIL}>'


def list_id(topic: Topic) -> str:
    """RFC 2919: a name unique to the list, under a domain the shop owns."""
    return f"{topic.handle}.{topic.shop.domain}"


def topic_products(topic: Topic) -> set[int]:
    """The products a topic's picks are made of: its collections' members and its tagged
    products, active ones."""
    products = Product.objects.for_shop(topic.shop).filter(
        status=Product.Status.ACTIVE, deleted_at__isnull=True
    )
    found: set[int] = set()
    if topic.tags:
        query = Q()
        for tag in topic.tags:
            query |= Q(tags__icontains=tag)
        wanted = {tag.strip().lower() for tag in topic.tags}
        for product in products.filter(query).only("shopify_id", "tags"):
            if wanted & {tag.strip().lower() for tag in product.tag_list}:
                found.add(product.shopify_id)
    if topic.collection_handles:
        members = CollectionMembership.objects.for_shop(topic.shop).filter(
            collection__handle__in=topic.collection_handles
        )
        found |= set(
            products.filter(shopify_id__in=members.values("product_shopify_id")).values_list(
                "shopify_id", flat=True
            )
        )
    return found


def readers_picks(
    topic: Topic, subscribers: Sequence[Subscriber], product_ids: set[int], today: date
) -> list[list[dict[str, Any]]]:
    """Each reader's picks among the topic's products, each with its reason in the reader's
    language, in the order of `subscribers`. What the picks read (products, profiles, facts,
    dismissals, candidate lists, names) is read once for all of them."""
    if not product_ids or topic.picks_count == 0:
        return [[] for _ in subscribers]
    shop = topic.shop
    picks = picks_within_many(
        shop,
        [subscriber.customer_shopify_id for subscriber in subscribers],
        product_ids,
        limit=topic.picks_count,
        today=today,
    )
    names = picks_names(shop, [pick for found in picks.values() for pick in found])
    return [
        picks_as_json(
            shop, picks[subscriber.customer_shopify_id], reader_language(subscriber.language), names
        )
        for subscriber in subscribers
    ]


class EmailLinks:
    """The links of an issue's emails, with what they share made once: each page's address up to
    its token (reverse() costs more than signing the token) and each purpose's signer."""

    def __init__(self) -> None:
        self.click_base = _address_before_token("newsletters:click")
        self.manage_base = _address_before_token("newsletters:preferences")
        self.unsubscribe_base = _address_before_token("newsletters:unsubscribe")
        self.click_signer = signing.TimestampSigner(salt=CLICK_SALT)  # what signing.dumps uses
        self.manage_signer = token_signer("manage")
        self.unsubscribe_signer = token_signer("unsubscribe")

    def click(self, delivery_pk: int, target: str) -> str:
        """A storefront link through our click counter (a signed redirect: only to the shop's own
        storefront, which the signature guarantees)."""
        token = self.click_signer.sign_object({"d": delivery_pk, "u": target}, compress=True)
        return self.click_base + token

    def manage(self, subscriber: Subscriber) -> str:
        return self.manage_base + token_make(subscriber, "manage", signer=self.manage_signer)

    def unsubscribe(self, subscriber: Subscriber, topic_id: int) -> str:
        return self.unsubscribe_base + token_make(
            subscriber, "unsubscribe", topic_id, signer=self.unsubscribe_signer
        )


def _address_before_token(name: str) -> str:
    """The address of a page that takes a token, up to the token: a token is URL-safe base64 and
    colons, which reverse() leaves as they are, so this plus a token is what reverse() gives."""
    path = reverse(name, args=["-"])
    return app_url(path.removesuffix("-"))


@dataclass(frozen=True)
class Framed:
    """A part of an email in HTML and in text, as frames (newsletters.frames)."""

    html: Frame
    text: Frame


@dataclass(frozen=True)
class IssueShared:
    """What every email of an issue says alike in one language and cadence, written once: its
    body as frames with slots for the reader's picks and links, its headers but the reader's."""

    subject: str
    sender: str
    body: Framed
    list_id: str
    unsubscribe_mailto: str
    message_domain: str


@dataclass
class IssueContext:
    """What the emails of one issue share, read once for all its readers."""

    issue: Issue
    sending: NewsletterSettings
    product_ids: set[int]
    today: date
    storefront: str = ""
    links: EmailLinks = field(default_factory=EmailLinks)
    shared: dict[tuple[str, str], IssueShared] = field(default_factory=dict)  # by language, cadence
    # The picks' part around the rows, by language; each pick's row, by language and pick.
    picks_around: dict[str, Framed] = field(default_factory=dict)
    pick_rows: dict[tuple[str, str], Framed] = field(default_factory=dict)


def issue_context(issue: Issue, today: date) -> IssueContext:
    shop = issue.shop
    return IssueContext(
        issue=issue,
        sending=newsletter_settings(shop),
        product_ids=topic_products(issue.topic),
        today=today,
        storefront=storefront_url(shop, ""),
    )


def issue_shared(context: IssueContext, language: str, cadence: str) -> IssueShared:
    """What the issue's emails in this language and cadence share, written on first use."""
    found = context.shared.get((language, cadence))
    if found is not None:
        return found
    issue, sending = context.issue, context.sending
    topic, shop = issue.topic, issue.shop
    name = topic.in_language("names", language)
    sections = _sections(issue.sections, language)
    subject = f"{name}: {sections[0]['heading']}" if sections and sections[0]["heading"] else name
    slots = Slots()
    values = {
        "language": language,
        "subject": subject,
        "topic_name": name,
        "topic_description": topic.in_language("descriptions", language),
        "sections": sections,
        "shop_url": context.storefront,
        "reader_picks": slots["picks"],
        "footer": _footer(shop, sending, slots["manage_url"], slots["unsubscribe_url"]),
    }
    with translation.override(language):
        values["cadence"] = cadence_word(cadence)
        body = Framed(
            slots.frame(render_to_string("newsletters/email/issue.html", values)),
            slots.frame(render_to_string("newsletters/email/issue.txt", values)),
        )
    mailbox = sending.contact_email or sending.from_email or settings.DEFAULT_FROM_EMAIL
    # Header values are one line: a name with a line break would end the header.
    clean_name = " ".join(name.replace('"', "").split())
    shared = context.shared[(language, cadence)] = IssueShared(
        subject=subject,
        sender=sender_of(shop, sending),
        body=body,
        list_id=f'"{clean_name}" <{list_id(topic)}>',
        unsubscribe_mailto=f"mailto:{mailbox}?subject={quote('unsubscribe ' + list_id(topic))}",
        message_domain=_message_domain(),
    )
    return shared


def _footer(shop: Shop, sending: NewsletterSettings, manage: str, unsubscribe: str) -> dict[str, str]:
    return {
        "sender": sending.sender_name or shop.name or shop.domain,
        "postal_address": sending.postal_address,
        "contact": sending.contact_email or sending.from_email or settings.DEFAULT_FROM_EMAIL,
        "manage_url": manage,
        "unsubscribe_url": unsubscribe,
    }


def _sections(sections: Sequence[Mapping[str, Any]], language: str) -> list[dict[str, str]]:
    def text(value: Any) -> str:
        if isinstance(value, Mapping):
            return str(value.get(language) or value.get("en") or "")
        return str(value or "")

    return [
        {"heading": text(section.get("heading")), "body": text(section.get("body"))} for section in sections
    ]


@dataclass(frozen=True)
class IssueReader:
    """One email of an issue to write: to whom, for which of their subscriptions, for which
    delivery (its links and Message-ID name it)."""

    subscriber: Subscriber
    subscription: Subscription
    delivery_pk: int


def issue_emails(context: IssueContext, readers: Sequence[IssueReader]) -> list[EmailMultiAlternatives]:
    """Each reader's issue, in the order of `readers`, their picks made together."""
    picks = readers_picks(
        context.issue.topic, [reader.subscriber for reader in readers], context.product_ids, context.today
    )
    return [
        issue_email(context, reader.subscriber, reader.subscription, reader.delivery_pk, found)
        for reader, found in zip(readers, picks, strict=True)
    ]


def issue_email(
    context: IssueContext,
    subscriber: Subscriber,
    subscription: Subscription,
    delivery_pk: int,
    picks: list[dict[str, Any]] | None = None,
) -> EmailMultiAlternatives:
    """One reader's issue: their language, their picks (made here unless given), their links; the
    rest as every reader in their language gets it (issue_shared)."""
    issue = context.issue
    language = reader_language(subscriber.language)
    shared = issue_shared(context, language, subscription.cadence)
    if picks is None:
        [picks] = readers_picks(issue.topic, [subscriber], context.product_ids, context.today)
    for pick in picks:
        pick["link"] = context.links.click(delivery_pk, pick["url"])
    manage = context.links.manage(subscriber)
    unsubscribe = context.links.unsubscribe(subscriber, issue.topic_id)
    picks_html, picks_text = _reader_picks(context, language, picks)
    # As the templates would escape them: the HTML escaped, the text as it is.
    html = shared.body.html.fill(
        {"picks": picks_html, "manage_url": escape(manage), "unsubscribe_url": escape(unsubscribe)}
    )
    text = shared.body.text.fill({"picks": picks_text, "manage_url": manage, "unsubscribe_url": unsubscribe})
    message = WrittenEmail(
        subject=shared.subject,
        body=text,
        from_email=shared.sender,
        to=[subscriber.email],
        headers={
            "List-Id": shared.list_id,
            "List-Unsubscribe": f"<{unsubscribe}>, <{shared.unsubscribe_mailto}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<newsletter-{delivery_pk}.{issue.shop_id}@{shared.message_domain}>",
            "Precedence": "bulk",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _reader_picks(context: IssueContext, language: str, picks: list[dict[str, Any]]) -> tuple[str, str]:
    """The reader's picks' part, HTML and text (none without picks): each pick's row written once
    per issue for all the readers shown that pick alike (its link aside, which is each reader's
    own), the part around the rows once per language."""
    if not picks:
        return "", ""
    rows = [(_pick_row(context, language, pick), pick["link"]) for pick in picks]
    around = context.picks_around.get(language)
    if around is None:
        slots = Slots()
        with translation.override(language):
            around = context.picks_around[language] = Framed(
                slots.frame(render_to_string("newsletters/email/_picks.html", {"rows": slots["rows"]})),
                slots.frame(render_to_string("newsletters/email/_picks.txt", {"rows": slots["rows"]})),
            )
    html = "".join(row.html.fill({"link": escape(link)}) for row, link in rows)
    text = "".join(row.text.fill({"link": link}) for row, link in rows)
    return around.html.fill({"rows": html}), around.text.fill({"rows": text})


def _pick_row(context: IssueContext, language: str, pick: dict[str, Any]) -> Framed:
    """The pick's row as every reader shown this pick in this language gets it, a slot for the
    link: rendered with the pick's own values, so whatever the template does with them holds."""
    shown = {name: value for name, value in pick.items() if name != "link"}
    key = (language, json.dumps(shown, sort_keys=True, default=str))
    found = context.pick_rows.get(key)
    if found is None:
        slots = Slots()
        values = {"pick": {**shown, "link": slots["link"]}}
        with translation.override(language):
            found = context.pick_rows[key] = Framed(
                slots.frame(render_to_string("newsletters/email/_pick.html", values)),
                slots.frame(render_to_string("newsletters/email/_pick.txt", values)),
            )
    return found


def confirmation_email(
    subscriber: Subscriber, pending: Sequence[Subscription], delivery_pk: int
) -> EmailMultiAlternatives:
    """The double opt-in request: the topics asked for and the link to confirm them; nothing
    else (no picks, no offers)."""
    shop = subscriber.shop
    sending = newsletter_settings(shop)
    language = reader_language(subscriber.language)
    confirm = app_url(reverse("newsletters:confirm", args=[token_make(subscriber, "confirm")]))
    with translation.override(language):
        subject = str(
            _("Confirm your subscription to %(shop)s")
            % {"shop": sending.sender_name or shop.name or shop.domain}
        )
        values = {
            "language": language,
            "subject": subject,
            "topics": [
                {
                    "name": subscription.topic.in_language("names", language),
                    "cadence": cadence_word(subscription.cadence),
                }
                for subscription in pending
            ],
            "confirm_url": confirm,
            "footer": _footer(shop, sending, "", ""),
        }
        html = render_to_string("newsletters/email/confirmation.html", values)
        text = render_to_string("newsletters/email/confirmation.txt", values)
    message = WrittenEmail(
        subject=subject,
        body=text,
        from_email=sender_of(shop, sending),
        to=[subscriber.email],
        headers={"Message-ID": f"<confirm-{delivery_pk}.{shop.pk}@{_message_domain()}>"},
    )
    message.attach_alternative(html, "text/html")
    return message
