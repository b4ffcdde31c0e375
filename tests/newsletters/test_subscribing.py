"""Signing up, double opt-in, the preference center and one-click unsubscribe, against a real SMTP
server process: what the shopper gets by email is read back from the server's mailbox."""

import json
import re
from datetime import date, timedelta
from email.message import Message
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from commerce.models import Customer
from newsletters.models import (
    Delivery,
    NewsletterConsent,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Topic,
)
from newsletters.sending import issue_create
from newsletters.subscriptions import shopify_consent_follow
from personalize.facts import facts_current
from shop_app.jobs import job_process
from shop_app.models import Job, Shop
from tests.newsletters.conftest import SmtpServer
from tests.storefront import proxy_url, signed_proxy_query

pytestmark = pytest.mark.django_db(transaction=True)

CONSENT = {
    "text": "Send me the topics I picked, at the cadence I chose.",
    "version": "2026-05",
    "language": "en",
}


def sign_up(shop: Shop, body: dict[str, Any], customer_id: int | None = None) -> Any:
    return Client().post(
        proxy_url("newsletters/subscriptions", signed_proxy_query(shop.domain, customer_id=customer_id)),
        data=json.dumps(body),
        content_type="application/json",
        headers={"User-Agent": "Test browser", "X-Forwarded-For": "203.0.113.9"},
    )


def text_of(message: Message) -> str:
    part = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def html_of(message: Message) -> str:
    part = next(part for part in message.walk() if part.get_content_type() == "text/html")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def link(message: Message, kind: str) -> str:
    found = re.search(rf"https://omakase\.example(/newsletters/{kind}/[^\s\"<]+)", text_of(message))
    assert found, f"no {kind} link in the email"
    return found.group(1)


def confirmed_reader(shop: Shop, smtp: SmtpServer, email: str, topics: list[dict[str, Any]]) -> Subscriber:
    before = len(smtp.messages())
    assert sign_up(shop, {"email": email, "topics": topics, "consent": CONSENT}).status_code == 202
    message = smtp.wait_for(before + 1)[-1]
    assert Client().post(link(message, "confirm")).status_code == 200
    return Subscriber.objects.get(shop=shop, email=email)


def test_the_topics_are_listed_with_their_cadences_in_the_shoppers_language(shop: Shop, topics: Any) -> None:
    response = Client().get(
        proxy_url("newsletters/topics", signed_proxy_query(shop.domain, params=[("locale", "ja")]))
    )

    assert response.status_code == 200
    listed = response.json()["topics"]
    assert [topic["name"] for topic in listed] == ["新着", "お手入れ"]
    assert [cadence["value"] for cadence in listed[0]["cadences"]] == ["weekly", "monthly"]
    assert listed[0]["cadences"][1]["label"] == "毎月"


def test_a_sign_up_waits_for_the_confirmation_sent_by_email(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, care = topics

    response = sign_up(
        shop,
        {
            "email": "Reader@Example.com",
            "topics": [{"id": arrivals.pk, "cadence": "monthly"}, {"id": care.pk, "cadence": "quarterly"}],
            "consent": CONSENT,
        },
    )

    assert response.status_code == 202
    reader = Subscriber.objects.get(shop=shop)
    assert reader.email == "reader@example.com"
    assert set(Subscription.objects.filter(subscriber=reader).values_list("status", "cadence")) == {
        ("pending", "monthly"),
        ("pending", "quarterly"),
    }
    consent = NewsletterConsent.objects.get(subscriber=reader)
    assert (consent.text, consent.version, consent.language, consent.method) == (
        CONSENT["text"],
        "2026-05",
        "en",
        "storefront_email",
    )
    assert consent.ip_hash
    assert "203.0.113.9" not in consent.ip_hash
    assert consent.user_agent_hash
    [message] = smtp.wait_for(1)
    assert message["To"] == "reader@example.com"
    assert "New arrivals (Monthly)" in text_of(message)
    # The confirmation carries no marketing and no unsubscribe machinery of a list.
    assert "Picked for you" not in html_of(message)
    assert message["List-Unsubscribe"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topics": [{"id": 0, "cadence": "monthly"}]}, "email"),
        ({"email": "not an address", "topics": [{"id": 0, "cadence": "monthly"}]}, "email"),
        ({"email": "a@example.com", "topics": []}, "topics"),
        ({"email": "a@example.com", "topics": [{"id": 999999, "cadence": "monthly"}]}, "topics[0].id"),
        ({"email": "a@example.com", "topics": [{"id": "ARRIVALS", "cadence": "daily"}]}, "topics[0].cadence"),
        (
            {"email": "a@example.com", "topics": [{"id": "ARRIVALS", "cadence": "monthly"}], "consent": {}},
            "consent.text",
        ),
        (
            {"email": "a@example.com", "topics": [{"id": "ARRIVALS", "cadence": "monthly"}], "extra": 1},
            "extra",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    shop: Shop, topics: Any, smtp: SmtpServer, body: dict[str, Any], field: str
) -> None:
    arrivals, _ = topics
    for item in body.get("topics", []):
        if item["id"] == "ARRIVALS":
            item["id"] = arrivals.pk
    body.setdefault("consent", CONSENT)

    response = sign_up(shop, body)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Subscriber.objects.exists()
    assert not Subscription.objects.exists()
    assert not Delivery.objects.exists()
    assert smtp.messages() == []


def test_a_signed_in_shopper_gives_no_email_and_uses_their_accounts(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, _ = topics
    Customer.objects.create(shop=shop, shopify_id=77, email="kenji@example.com")
    body = {"topics": [{"id": arrivals.pk, "cadence": "weekly"}], "consent": CONSENT}

    refused = sign_up(shop, {**body, "email": "other@example.com"}, customer_id=77)
    accepted = sign_up(shop, body, customer_id=77)

    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "email"
    assert accepted.status_code == 202
    [message] = smtp.wait_for(1)
    assert message["To"] == "kenji@example.com"
    assert Subscriber.objects.get(shop=shop).customer_shopify_id == 77


def test_following_the_link_confirms_nothing_until_the_button_is_pressed(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, care = topics
    Customer.objects.create(shop=shop, shopify_id=88, email="aiko@example.com")
    sign_up(
        shop,
        {
            "email": "aiko@example.com",
            "topics": [{"id": arrivals.pk, "cadence": "monthly"}],
            "consent": CONSENT,
        },
    )
    [message] = smtp.wait_for(1)
    confirm = link(message, "confirm")

    # A link scanner (or the shopper) opens the link: a page with a button, and nothing changes
    opened = Client().get(confirm)
    assert opened.status_code == 200
    assert b'method="post"' in opened.content
    assert Subscription.objects.get().status == SubscriptionStatus.PENDING

    # The shopper presses the button
    pressed = Client().post(confirm)

    assert pressed.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.CONFIRMED
    assert subscription.confirmed_at
    assert NewsletterConsent.objects.get().confirmed_at is not None
    # The address is a customer's: the confirmed topic is a fact they told, and Shopify hears of it
    reader = Subscriber.objects.get()
    assert reader.customer_shopify_id == 88
    assert facts_current(shop, [88])[88]["topics"].value == ["new-arrivals"]
    assert Job.objects.filter(kind="newsletters.consent_write", key="88").exists()
    assert care.pk not in set(Subscription.objects.values_list("topic_id", flat=True))


def test_the_preference_center_changes_only_the_topics_it_showed(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, care = topics
    reader = confirmed_reader(
        shop,
        smtp,
        "mei@example.com",
        [{"id": arrivals.pk, "cadence": "weekly"}, {"id": care.pk, "cadence": "monthly"}],
    )
    manage = re.search(
        r'href="(/newsletters/preferences/[^"]+)"',
        Client().get(link(smtp.messages()[-1], "confirm")).content.decode(),
    )
    assert manage
    page = manage.group(1)

    # The page shows both topics; a form that showed only "New arrivals" moves it to monthly and pauses it
    shown = Client().get(page)
    assert shown.status_code == 200
    assert b"Care tips" in shown.content
    saved = Client().post(
        page,
        {
            "shown": [str(arrivals.pk)],
            f"topic_{arrivals.pk}": "1",
            f"cadence_{arrivals.pk}": "monthly",
            f"pause_{arrivals.pk}": "30",
        },
    )

    assert saved.status_code == 200
    by_topic = {s.topic_id: s for s in Subscription.objects.filter(subscriber=reader)}
    assert by_topic[arrivals.pk].cadence == "monthly"
    assert by_topic[arrivals.pk].paused_until is not None
    assert by_topic[care.pk].status == SubscriptionStatus.CONFIRMED
    assert by_topic[care.pk].cadence == "monthly"

    # Unticking a shown topic leaves it, and only it
    Client().post(
        page,
        {
            "shown": [str(arrivals.pk), str(care.pk)],
            f"topic_{care.pk}": "1",
            f"cadence_{care.pk}": "quarterly",
        },
    )
    by_topic = {s.topic_id: s for s in Subscription.objects.filter(subscriber=reader)}
    assert by_topic[arrivals.pk].status == SubscriptionStatus.UNSUBSCRIBED
    assert (by_topic[care.pk].status, by_topic[care.pk].cadence) == (
        SubscriptionStatus.CONFIRMED,
        "quarterly",
    )

    # Leave all
    Client().post(page, {"leave_all": "1"})
    assert set(Subscription.objects.filter(subscriber=reader).values_list("status", flat=True)) == {
        "unsubscribed"
    }


def test_a_paused_reader_gets_no_issue_until_the_pause_ends(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, _ = topics
    reader = confirmed_reader(shop, smtp, "paused@example.com", [{"id": arrivals.pk, "cadence": "monthly"}])
    other = confirmed_reader(shop, smtp, "reading@example.com", [{"id": arrivals.pk, "cadence": "monthly"}])
    Subscription.objects.filter(subscriber=reader).update(paused_until="2099-01-01")
    smtp.clear()

    issue = issue_create(arrivals, "monthly", date.today().replace(day=1))
    assert issue is not None
    job = Job.objects.get(kind="newsletters.issue_deliveries")
    job_process(job.pk)

    [message] = smtp.wait_for(1)
    assert message["To"] == other.email
    assert not Delivery.objects.filter(subscriber=reader, kind="issue").exists()


def test_one_click_unsubscribe_follows_rfc_8058(shop: Shop, topics: Any, smtp: SmtpServer) -> None:
    arrivals, care = topics
    reader = confirmed_reader(
        shop,
        smtp,
        "one@example.com",
        [{"id": arrivals.pk, "cadence": "monthly"}, {"id": care.pk, "cadence": "monthly"}],
    )
    smtp.clear()
    issue_create(arrivals, "monthly", date.today().replace(day=1))
    job_process(Job.objects.get(kind="newsletters.issue_deliveries").pk)
    [message] = smtp.wait_for(1)

    # The headers: an https URL and a mailto, one-click POST, a List-Id per topic
    unsubscribe = message["List-Unsubscribe"]
    https = re.search(r"<(https://[^>]+)>", unsubscribe)
    assert https
    assert "<mailto:" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == f'"New arrivals" <new-arrivals.{shop.domain}>'
    # The visible link and the footer the law asks for
    html = html_of(message)
    assert "/newsletters/unsubscribe/" in html
    assert "Unsubscribe" in html
    assert "1-2-3 Jingumae" in html
    assert "hello@maison.example" in html
    assert "Maison Test" in html

    # The mailbox provider POSTs, with no cookie and no CSRF token
    path = https.group(1).removeprefix("https://omakase.example")
    client = Client(enforce_csrf_checks=True)
    assert client.get(path).status_code == 200
    assert Subscription.objects.get(subscriber=reader, topic=arrivals).status == SubscriptionStatus.CONFIRMED
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert (
        Subscription.objects.get(subscriber=reader, topic=arrivals).status == SubscriptionStatus.UNSUBSCRIBED
    )
    assert Subscription.objects.get(subscriber=reader, topic=care).status == SubscriptionStatus.CONFIRMED


def test_a_link_of_another_purpose_or_a_forged_one_opens_nothing(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, _ = topics
    confirmed_reader(shop, smtp, "safe@example.com", [{"id": arrivals.pk, "cadence": "monthly"}])
    token = link(smtp.messages()[-1], "confirm").rsplit("/", 1)[1]

    assert Client().post(f"/newsletters/unsubscribe/{token}").status_code == 404
    assert Client().get(f"/newsletters/preferences/{token[:-2]}xx").status_code == 404
    assert Subscription.objects.get().status == SubscriptionStatus.CONFIRMED


def test_shopifys_unsubscribe_newer_than_ours_ends_every_topic_but_our_echo_does_not(
    shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, care = topics
    customer = Customer.objects.create(shop=shop, shopify_id=99, email="echo@example.com")
    reader = confirmed_reader(shop, smtp, "echo@example.com", [{"id": arrivals.pk, "cadence": "monthly"}])
    written = timezone.now().replace(microsecond=0)
    Subscriber.objects.filter(pk=reader.pk).update(
        shopify_consent_state="SUBSCRIBED", shopify_consent_written_at=written
    )

    # An older UNSUBSCRIBED (told back late) changes nothing
    Customer.objects.filter(pk=customer.pk).update(
        email_marketing_state="unsubscribed", email_consent_updated_at=written - timedelta(minutes=5)
    )
    assert shopify_consent_follow(shop, 99) == 0
    assert Subscription.objects.get(subscriber=reader).status == SubscriptionStatus.CONFIRMED

    # A newer one (the merchant unsubscribed them in Shopify) ends every topic
    Customer.objects.filter(pk=customer.pk).update(email_consent_updated_at=written + timedelta(minutes=5))
    assert shopify_consent_follow(shop, 99) == 1
    assert Subscription.objects.get(subscriber=reader).status == SubscriptionStatus.UNSUBSCRIBED
    assert Subscriber.objects.get(pk=reader.pk).suppressed_reason == "shopify"
    assert care.pk  # the second topic was never theirs


def test_another_shop_sees_none_of_these_topics(
    shop: Shop, other_shop: Shop, topics: Any, smtp: SmtpServer
) -> None:
    arrivals, _ = topics

    listed = Client().get(proxy_url("newsletters/topics", signed_proxy_query(other_shop.domain))).json()
    refused = sign_up(
        other_shop,
        {"email": "x@example.com", "topics": [{"id": arrivals.pk, "cadence": "monthly"}], "consent": CONSENT},
    )

    assert listed["topics"] == []
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "topics[0].id"
    assert not Topic.objects.filter(shop=other_shop).exists()
