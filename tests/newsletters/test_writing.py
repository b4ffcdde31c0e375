"""How an issue's emails are written cheaply and still exactly: the MIME text written directly reads
back as Django's own writing of the same email, and an email filled into its issue's frame is what
its templates render for that reader."""

import io
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from unittest import mock

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import BadHeaderError
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from newsletters.content import IssueReader, cadence_word, issue_context, issue_emails
from newsletters.frames import FrameError, Slots
from newsletters.mime import WrittenEmail
from newsletters.models import Issue, Subscriber, Subscription, Topic
from shop_app.models import Shop

TEXT = "New arrivals · Monthly\n\nLight layers.\n\n- Linen shirt (40.00 USD)\n  Popular near you\n"
HTML = '<p>New arrivals · <a href="https://omakase.example/c/x?a=1&amp;b=2">Linen shirt</a></p>\n'
LIST_HEADERS = {
    "List-Id": '"New arrivals" <new-arrivals.first-shop.myshopify.com>',
    "List-Unsubscribe": "<https://omakase.example/newsletters/unsubscribe/eyJzIjoxLCJyIjoxLCJ2IjoxLCJ0IjoxfQ"
    ":1v0abc:Xn2lVJvY3Jx0oBvL2cT1sH7q0Qp8f1Kx9bZ8w4H3y2E>, "
    "<mailto:hello@maison.example?subject=unsubscribe%20new-arrivals.first-shop.myshopify.com>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "Message-ID": "<newsletter-7.1@omakase.example>",
    "Precedence": "bulk",
    # Given, so that the two writings do not fall on different seconds.
    "Date": "Tue, 01 Dec 2026 09:00:00 -0000",
}


def both_ways(**fields: Any) -> tuple[EmailMessage, EmailMessage]:
    """The same email as Django writes it and as WrittenEmail does, each parsed back."""
    parsed = []
    for kind in (EmailMultiAlternatives, WrittenEmail):
        email = kind(
            subject=fields.get("subject", "New arrivals: Spring is here"),
            body=fields.get("body", TEXT),
            from_email=fields.get("from_email", '"Maison Test" <news@maison.example>'),
            to=["reader@example.com"],
            headers=fields.get("headers", LIST_HEADERS),
        )
        email.attach_alternative(fields.get("html", HTML), "text/html")
        written = email.message().as_bytes(linesep="\r\n")
        parsed.append(message_from_bytes(written, policy=policy.default))
    return parsed[0], parsed[1]


def parts_of(message: EmailMessage) -> list[tuple[str, str | None, str | None, str]]:
    return [
        (
            part.get_content_type(),
            part.get_content_charset(),
            part["Content-Transfer-Encoding"],
            part.get_content(),
        )
        for part in message.walk()
        if not part.is_multipart()
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {
            "subject": "新着: 春が来た",
            "from_email": '"メゾン テスト" <news@maison.example>',
            "body": TEXT + "軽い重ね着。\n",
        },
        {
            "subject": "A subject long enough to be folded " * 4,
            "headers": {**LIST_HEADERS, "List-Id": '"新着" <n.x>'},
        },
        {"body": "Plain ASCII, no trailing line break", "html": "<p>ASCII</p>"},
    ],
    ids=["english", "japanese", "long-and-mixed", "ascii"],
)
def test_a_written_email_reads_back_as_djangos_own_writing_of_it(fields: dict[str, Any]) -> None:
    django_wrote, we_wrote = both_ways(**fields)

    assert list(we_wrote.keys()) == list(django_wrote.keys())
    for name in django_wrote:
        if name != "Content-Type":  # its boundary is random
            # Django's writing of a folded encoded header starts its value with a space.
            assert str(we_wrote[name]).strip() == str(django_wrote[name]).strip(), name
    assert we_wrote.get_content_type() == "multipart/alternative"
    assert parts_of(we_wrote) == parts_of(django_wrote)


def test_a_body_line_longer_than_smtp_allows_goes_quoted_printable_as_django_sends_it() -> None:
    long_line = "Linen " * 200

    django_wrote, we_wrote = both_ways(body=long_line)

    assert parts_of(we_wrote) == parts_of(django_wrote)
    assert parts_of(we_wrote)[0][2] == "quoted-printable"
    assert max(len(line) for line in we_wrote.as_bytes().splitlines()) <= 998


def test_a_header_with_a_line_break_is_refused() -> None:
    email = WrittenEmail(subject="Hello\nBcc: everyone@example.com", body="Hi", to=["reader@example.com"])
    email.attach_alternative("<p>Hi</p>", "text/html")

    with pytest.raises(BadHeaderError):
        email.message()


def test_the_console_backend_shows_a_written_email(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    stream = io.StringIO()
    email = WrittenEmail(subject="新着", body="軽い重ね着。", to=["reader@example.com"])
    email.attach_alternative("<p>軽い重ね着。</p>", "text/html")

    sent = get_connection(stream=stream).send_messages([email])

    assert sent == 1
    assert "<p>軽い重ね着。</p>" in stream.getvalue()
    assert "Subject: =?utf-8?" in stream.getvalue()


def test_a_frame_filled_is_the_template_rendered_with_those_values() -> None:
    template = engines["django"].from_string('<a href="{{ url }}">{{ name }}</a>{{ picks }}|{{ url }}')
    url, picks = "https://a.example/?x=1&y=<2>", mark_safe("<b>mine</b>")
    slots = Slots()

    frame = slots.frame(
        template.render({"url": slots["url"], "name": "Tom & Jerry", "picks": slots["picks"]})
    )
    filled = frame.fill({"url": escape(url), "picks": picks})

    assert filled == template.render({"url": url, "name": "Tom & Jerry", "picks": picks})
    assert "Tom &amp; Jerry" in filled


@pytest.mark.parametrize(
    "source", ["{% if False %}{{ url }}{% endif %}", "{{ url|upper }}"], ids=["dropped", "changed"]
)
def test_a_template_that_loses_a_slot_makes_no_frame(source: str) -> None:
    slots = Slots()

    with pytest.raises(FrameError):
        slots.frame(engines["django"].from_string(source).render({"url": slots["url"]}))


def rendered(template: str, values: dict[str, Any], picks: list[dict[str, Any]]) -> str:
    """The email's template rendered for the reader straight away: their picks' rows, the part
    around them (none without picks), the email around that."""
    kind = template.rsplit(".", 1)[1]
    rows = mark_safe(  # the rows' templates escaped what they show
        "".join(render_to_string(f"newsletters/email/_pick.{kind}", {"pick": pick}) for pick in picks)
    )
    around = render_to_string(f"newsletters/email/_picks.{kind}", {"rows": rows}) if picks else ""
    return render_to_string(template, {**values, "reader_picks": around})


@pytest.mark.django_db
def test_each_readers_issue_is_its_templates_rendered_for_that_reader(shop: Shop, topics: Any) -> None:
    # Given an issue whose text needs escaping, and readers in two languages with picks, alike or
    # not, or none
    arrivals: Topic = topics[0]
    arrivals.sections = [
        {
            "heading": {"en": "Spring is here", "ja": "春が来た"},
            "body": {"en": "Tom & Jerry <3", "ja": "軽い"},
        },
        {"heading": {"en": "Care"}, "body": {"en": "Wash cold.\n\nDry flat."}},
    ]
    arrivals.save()
    issue = Issue.objects.create(
        shop=shop,
        topic=arrivals,
        cadence="monthly",
        period="2026-05",
        period_start=date(2026, 5, 1),
        sections=arrivals.sections,
    )
    linen = {
        "product_id": 1,
        "title": "Linen & silk",
        "url": "/products/linen",
        "price": {"amount": "40.00", "currency": "USD"},
        "reason": {"text": "Popular <near> you"},
    }
    wool = {**linen, "product_id": 2, "title": "Wool", "url": "/products/wool", "reason": {"text": "Warm"}}
    picks = {"en": [linen, wool], "ja": [linen], "en-other": [wool, linen], "none": []}
    readers = []
    for number, (who, language) in enumerate(
        [("en", "en"), ("ja", "ja"), ("en-other", "en"), ("none", "en")]
    ):
        subscriber = Subscriber.objects.create(shop=shop, email=f"{who}@example.com", language=language)
        subscription = Subscription.objects.create(
            shop=shop, subscriber=subscriber, topic=arrivals, cadence="monthly", status="confirmed"
        )
        readers.append(IssueReader(subscriber, subscription, delivery_pk=100 + number))
    context = issue_context(issue, date(2026, 5, 1))

    # When their emails are written (the clock standing still, so that links signed twice match)
    with mock.patch("django.core.signing.time.time", return_value=1_780_000_000):
        their_picks = [
            [dict(pick) for pick in picks[reader.subscriber.email.split("@")[0]]] for reader in readers
        ]
        with mock.patch("newsletters.content.readers_picks", return_value=their_picks):
            emails = issue_emails(context, readers)

        # Then each is its templates rendered for that reader
        for reader, email in zip(readers, emails, strict=True):
            language = reader.subscriber.language
            shown = [
                {**pick, "link": context.links.click(reader.delivery_pk, pick["url"])}
                for pick in picks[reader.subscriber.email.split("@")[0]]
            ]
            with translation.override(language):
                values = {
                    "language": language,
                    "subject": email.subject,
                    "topic_name": arrivals.in_language("names", language),
                    "topic_description": arrivals.in_language("descriptions", language),
                    "cadence": cadence_word("monthly"),
                    "sections": [
                        {
                            "heading": section["heading"].get(language) or section["heading"]["en"],
                            "body": section["body"].get(language) or section["body"]["en"],
                        }
                        for section in arrivals.sections
                    ],
                    "footer": {
                        "sender": "Maison Test",
                        "postal_address": "1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001, Japan",
                        "contact": "hello@maison.example",
                        "manage_url": context.links.manage(reader.subscriber),
                        "unsubscribe_url": context.links.unsubscribe(reader.subscriber, arrivals.pk),
                    },
                }
                html = rendered("newsletters/email/issue.html", values, shown)
                text = rendered("newsletters/email/issue.txt", values, shown)

            assert email.alternatives[0].content == html
            assert email.body == text
            assert html.count('class="pick"') == len(shown)
    assert "Tom &amp; Jerry &lt;3" in emails[0].alternatives[0].content
    assert "Linen &amp; silk" in emails[0].alternatives[0].content
    assert "軽い" in emails[1].alternatives[0].content
    assert "Picked for you" not in emails[3].body
