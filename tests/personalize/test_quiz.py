"""The quiz (answers in a block, picks at once, "not quite" proposes again) and the blocks' feedback
events, through the storefront door."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from personalize.models import Dismissal, Fact, QuizAnswer, StorefrontEvent
from personalize.quiz import QuizError, quiz_save
from shop_app.models import Shop
from tests.personalize.histories import Line, days_before, order_row, product_row
from tests.storefront import proxy_url, signed_proxy_query

pytestmark = pytest.mark.django_db

SHOPPER = 601
VISITOR = "visitor-123456"
CONSENT = {"text": "Your answers choose your box.", "version": "q1", "language": "en"}
QUESTIONS = [
    {
        "text": "How do you drink your coffee?",
        "kind": "single",
        "options": [
            {"label": "Black", "product_types": ["Dark roast"]},
            {"label": "With milk", "product_types": ["Medium roast"]},
        ],
    },
    {
        "text": "What do you taste?",
        "kind": "multiple",
        "options": [
            {"label": "Fruity", "tags": ["fruity"]},
            {"label": "Chocolate", "tags": ["chocolate"]},
            {"label": "Nutty", "tags": ["nutty"]},
        ],
    },
]


@pytest.fixture
def quiz_shop(shop: Shop) -> Shop:
    for shopify_id, product_type, vendor, tags in [
        (1, "Dark roast", "Kona", "fruity"),
        (2, "Dark roast", "Kona", "chocolate"),
        (3, "Dark roast", "Huila", "nutty"),
        (4, "Medium roast", "Huila", "fruity"),
        (5, "Light roast", "Yirga", "floral"),
    ]:
        product = product_row(shop, shopify_id, product_type)
        product.vendor, product.tags = vendor, tags
        product.save()
    quiz_save(shop, "Find your coffee", QUESTIONS, published=True)
    return shop


def proxy_post(client: Client, shop: Shop, path: str, body: object, customer: int | None = SHOPPER) -> Any:
    query = signed_proxy_query(shop.domain, customer_id=customer)
    return client.post(proxy_url(path, query), data=json.dumps(body), content_type="application/json")


def proxy_get(client: Client, shop: Shop, path: str, customer: int | None = SHOPPER, **params: str) -> Any:
    return client.get(
        proxy_url(path, signed_proxy_query(shop.domain, customer_id=customer, params=list(params.items())))
    )


def test_the_storefront_gets_the_questions_without_what_they_map_to(client: Client, quiz_shop: Shop) -> None:
    quiz = proxy_get(client, quiz_shop, "quiz").json()["quiz"]

    assert [question["id"] for question in quiz["questions"]] == ["q1", "q2"]
    assert quiz["questions"][0]["options"] == [
        {"id": "q1o1", "label": "Black"},
        {"id": "q1o2", "label": "With milk"},
    ]


def test_no_quiz_is_a_404(client: Client, shop: Shop) -> None:
    assert proxy_get(client, shop, "quiz").status_code == 404


def test_answers_give_picks_at_once_each_because_of_what_was_said(client: Client, quiz_shop: Shop) -> None:
    response = proxy_post(
        client, quiz_shop, "quiz/answers", {"answers": {"q1": "q1o1", "q2": ["q2o1"]}, "consent": CONSENT}
    )

    assert response.status_code == 200, response.content
    picks = response.json()["picks"]
    assert [pick["product_id"] for pick in picks][:1] == [1]  # dark and fruity: both answers
    assert {pick["product_id"] for pick in picks} <= {1, 2, 3, 4}
    for pick in picks:
        assert pick["reason"]["kind"] == "you_told_us"
        assert pick["reason"]["evidence"]["fact"] == "quiz"
        assert pick["reason"]["text"] == f"Picked because you said “{pick['reason']['evidence']['answer']}”"
    # The answers are the shopper's facts, under the consent shown
    fact = Fact.objects.get(shop=quiz_shop, customer_shopify_id=SHOPPER, name="quiz")
    assert fact.value == {"q1": ["q1o1"], "q2": ["q2o1"]}
    assert fact.consent is not None
    assert fact.consent.text == CONSENT["text"]


def test_not_quite_proposes_again_without_the_miss_and_its_style(client: Client, quiz_shop: Shop) -> None:
    answers = {"q1": "q1o1", "q2": ["q2o1", "q2o2", "q2o3"]}
    first = proxy_post(client, quiz_shop, "quiz/answers", {"answers": answers, "consent": CONSENT}).json()[
        "picks"
    ]
    missed = first[0]["product_id"]

    again = proxy_post(
        client,
        quiz_shop,
        "quiz/retry",
        {"answers": answers, "rejected": missed, "why": "style", "shown": [missed]},
    ).json()["picks"]

    assert again
    assert missed not in {pick["product_id"] for pick in again}
    # Kona's dark roasts were the style that missed: Huila's comes instead
    assert {pick["product_id"] for pick in again} == {3, 4}
    assert (
        Dismissal.objects.get(shop=quiz_shop, customer_shopify_id=SHOPPER, product_shopify_id=missed).reason
        == "style"
    )


def test_a_guests_answers_become_theirs_when_they_sign_in(client: Client, quiz_shop: Shop) -> None:
    response = proxy_post(
        client,
        quiz_shop,
        "quiz/answers",
        {"answers": {"q1": "q1o2", "q2": ["q2o3"]}, "visitor": VISITOR, "consent": CONSENT},
        customer=None,
    )
    assert response.status_code == 200
    assert not Fact.objects.filter(shop=quiz_shop).exists()

    # The same browser, signed in, opens the quiz block
    proxy_get(client, quiz_shop, "quiz", visitor=VISITOR)

    fact = Fact.objects.get(shop=quiz_shop, customer_shopify_id=SHOPPER, name="quiz")
    assert fact.value == {"q1": ["q1o2"], "q2": ["q2o3"]}
    assert QuizAnswer.objects.get(shop=quiz_shop).customer_shopify_id == SHOPPER


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"q1": "q1o9", "q2": ["q2o1"]}, "consent": CONSENT}, "answers.q1"),
        ({"answers": {"q1": ["q1o1", "q1o2"], "q2": ["q2o1"]}, "consent": CONSENT}, "answers.q1"),
        ({"answers": {"q1": "q1o1"}, "consent": CONSENT}, "answers.q2"),
        ({"answers": {"q1": "q1o1", "q2": ["q2o1"]}}, "consent"),
        ({"answers": {"q1": "q1o1", "q2": ["q2o1"]}, "consent": CONSENT, "visitor": "x"}, "visitor"),
    ],
)
def test_bad_answers_are_refused_naming_the_field_and_nothing_kept(
    client: Client, quiz_shop: Shop, body: dict[str, Any], field: str
) -> None:
    response = proxy_post(client, quiz_shop, "quiz/answers", body)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not QuizAnswer.objects.filter(shop=quiz_shop).exists()
    assert not Fact.objects.filter(shop=quiz_shop).exists()


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        ([], "questions"),
        ([{"text": "Q", "options": [{"label": "only one"}]}], "questions[0].options"),
        ([{"text": "", "options": [{"label": "a"}, {"label": "b"}]}], "questions[0].text"),
        ([{"text": "Q", "kind": "ranked", "options": [{"label": "a"}, {"label": "b"}]}], "questions[0].kind"),
        ([{"text": f"Q{n}", "options": [{"label": "a"}, {"label": "b"}]} for n in range(11)], "questions"),
    ],
)
def test_the_merchants_quiz_is_checked(shop: Shop, questions: list[Any], field: str) -> None:
    with pytest.raises(QuizError) as refused:
        quiz_save(shop, "Quiz", questions, published=True)

    assert refused.value.field == field


def test_the_merchant_builds_the_quiz_in_the_admin(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    client = api_client_for(shop)

    saved = client.put(
        "/api/quiz",
        {"title": "Find your coffee", "questions": QUESTIONS, "published": True},
        content_type="application/json",
    )
    refused = client.put(
        "/api/quiz", {"title": "", "questions": QUESTIONS, "published": True}, content_type="application/json"
    )

    assert saved.status_code == 200, saved.content
    assert saved.json()["questions"][1]["options"][2] == {
        "id": "q2o3",
        "label": "Nutty",
        "product_types": [],
        "tags": ["nutty"],
    }
    assert refused.status_code == 400
    assert "title" in refused.json()
    assert client.get("/api/quiz").json()["title"] == "Find your coffee"


# --- Feedback events --------------------------------------------------------------------------------------


def test_events_are_stored_and_a_dismissal_remembered_with_its_reason(
    client: Client, quiz_shop: Shop
) -> None:
    response = proxy_post(
        client,
        quiz_shop,
        "events",
        {
            "visitor": VISITOR,
            "events": [
                {"type": "impression", "block": "for-you", "product_id": 1},
                {"type": "click", "block": "for-you", "product_id": 1},
                {"type": "dismiss", "block": "for-you", "product_id": 2, "reason": "price"},
            ],
        },
    )

    assert response.status_code == 202
    assert StorefrontEvent.objects.filter(shop=quiz_shop).count() == 3
    assert Dismissal.objects.get(shop=quiz_shop, product_shopify_id=2).reason == "price"


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ([{"type": "purchase", "block": "for-you", "product_id": 1}], "events[0].type"),
        ([{"type": "click", "block": "sidebar", "product_id": 1}], "events[0].block"),
        ([{"type": "click", "block": "for-you", "product_id": "1"}], "events[0].product_id"),
        ([{"type": "click", "block": "for-you", "product_id": 1, "reason": "price"}], "events[0].reason"),
        ([], "events"),
    ],
)
def test_a_bad_event_refuses_the_batch(
    client: Client, quiz_shop: Shop, events: list[Any], field: str
) -> None:
    good = {"type": "impression", "block": "for-you", "product_id": 3}
    response = proxy_post(
        client, quiz_shop, "events", {"visitor": VISITOR, "events": [good, *events] if events else []}
    )

    assert response.status_code == 400
    assert (
        response.json()["error"]["field"] == field.replace("events[0]", "events[1]") if events else "events"
    )
    assert not StorefrontEvent.objects.filter(shop=quiz_shop).exists()


def test_clicks_attribute_the_orders_that_follow_within_7_days(
    client: Client, quiz_shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    # Given a shopper who clicked in "for-you" and ordered 2 days later, and another who ordered
    # without clicking
    proxy_post(
        client, quiz_shop, "events", {"events": [{"type": "click", "block": "for-you", "product_id": 1}]}
    )
    StorefrontEvent.objects.filter(shop=quiz_shop).update(at=days_before(3))
    order_row(quiz_shop, SHOPPER, 1, [Line(1, unit_cents=4_200)])
    order_row(quiz_shop, 999, 1, [Line(1, unit_cents=9_900)])
    proxy_post(
        client,
        quiz_shop,
        "events",
        {
            "visitor": VISITOR,
            "events": [
                {"type": "impression", "block": "for-you", "product_id": 1},
                {"type": "impression", "block": "for-you", "product_id": 2},
            ],
        },
        customer=None,
    )

    stats = api_client_for(quiz_shop).get("/api/recommendations/stats", {"days": 30}).json()

    (block,) = stats["blocks"]
    assert block["block"] == "for-you"
    assert (block["impressions"], block["clicks"]) == (2, 1)
    assert block["click_rate"] == 0.5
    assert block["attributed_orders"] == 1
    assert block["attributed_revenue"] == "42.00"
