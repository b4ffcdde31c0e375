"""The overview's APIs: the dashboard's figures and the checklist, for the session's shop only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from commerce.models import Backfill
from loyalty.models import Program, Reward
from overview import checklist
from overview.checklist import EMBED_HANDLE, PICKS_BLOCK_HANDLES, theme_state_from_files
from overview.models import RollupState
from overview.rollups import rollups_refresh, shop_today
from shop_app.models import Job, Shop
from tests.overview.conftest import History

pytestmark = pytest.mark.django_db
EXTENSION_BLOCKS = Path(__file__).resolve().parents[2] / "extensions" / "omakase-theme" / "blocks"
EMBED = f"shopify://apps/omakase/blocks/{EMBED_HANDLE}/9c1f4c52"


class FakeThemeShopify:
    """Shopify answering the theme files query with the files given."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.queries: list[str] = []

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.queries.append(query)
        nodes = [{"filename": name, "body": {"content": text}} for name, text in self.files.items()]
        return {"themes": {"nodes": [{"id": "gid://shopify/OnlineStoreTheme/1", "files": {"nodes": nodes}}]}}


@pytest.fixture
def theme(monkeypatch: pytest.MonkeyPatch) -> FakeThemeShopify:
    fake = FakeThemeShopify({})
    monkeypatch.setattr(checklist, "admin_client_for_shop", lambda shop: fake)
    return fake


def test_the_dashboard_answers_the_range_and_the_period_before(
    shop: Shop,
    api_client_for: Callable[[Shop], Client],
    history: Callable[[Shop], History],
    days_ago: Callable[..., datetime],
) -> None:
    # Given a shop with orders and built rollups
    shop_history = history(shop)
    shop_history.order(None, days_ago(2), "30.00")
    shop_history.order(None, days_ago(9), "10.00")
    rollups_refresh(shop)
    today = shop_today(shop)

    # When the merchant asks for the last 7 days
    response = api_client_for(shop).get(
        "/api/overview", {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}
    )

    # Then the figures compare them with the 7 days before
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert (body["current"]["orders"], body["previous"]["orders"]) == (1, 1)
    assert body["current"]["revenue"] == "30.00"
    assert len(body["days"]) == 7
    assert body["currency"] == "USD"


def test_a_second_shop_sees_nothing_of_the_first(
    shop: Shop,
    other_shop: Shop,
    api_client_for: Callable[[Shop], Client],
    history: Callable[[Shop], History],
    days_ago: Callable[..., datetime],
) -> None:
    # Given the first shop's orders, rolled up
    history(shop).order(None, days_ago(1), "99.00")
    rollups_refresh(shop)
    rollups_refresh(other_shop)

    # When the second shop reads its overview
    body = api_client_for(other_shop).get("/api/overview").json()

    # Then it has none of them
    assert body["current"]["orders"] == 0
    assert body["current"]["revenue"] == "0.00"


def test_a_shop_never_rolled_up_gets_its_build_queued_and_is_told_so(
    shop: Shop, api_client_for: Callable[[Shop], Client]
) -> None:
    body = api_client_for(shop).get("/api/overview").json()

    assert body["ready"] is False
    assert Job.objects.filter(shop=shop, kind="overview.rollup").count() == 1
    assert not RollupState.objects.filter(shop=shop).exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "start"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end"),
    ],
)
def test_a_wrong_range_is_refused_naming_the_field(
    shop: Shop, api_client_for: Callable[[Shop], Client], query: dict[str, str], field: str
) -> None:
    response = api_client_for(shop).get("/api/overview", query)

    assert response.status_code == 400
    assert field in response.json()


def test_without_a_session_token_nothing_is_answered(shop: Shop) -> None:
    assert Client().get("/api/overview").status_code in (401, 403)
    assert Client().get("/api/overview/checklist").status_code in (401, 403)


def test_the_checklist_knows_what_is_done(
    shop: Shop,
    api_client_for: Callable[[Shop], Client],
    theme: FakeThemeShopify,
    history: Callable[[Shop], History],
    settings: Any,
) -> None:
    # Given an import done, a topic, the app embed on and no block placed, and no rewards
    Backfill.objects.create(shop=shop, status=Backfill.Status.DONE)
    history(shop).topic("arrivals")
    theme.files = {
        "config/settings_data.json": "/* saved */\n"
        + json.dumps({"current": {"blocks": {"e": {"type": EMBED, "disabled": False}}}}),
        "templates/index.json": json.dumps(
            {"sections": {"main": {"type": "image-banner"}}, "order": ["main"]}
        ),
    }

    # When the merchant opens the Overview
    steps = {
        step["key"]: step for step in api_client_for(shop).get("/api/overview/checklist").json()["steps"]
    }

    # Then each step says whether it is done, and the theme steps link into the theme editor
    assert {key: step["done"] for key, step in steps.items()} == {
        "import": True,
        "app_embed": True,
        "blocks": False,
        "loyalty": False,
        "topic": True,
    }
    assert "/admin/themes/current/editor?" in steps["blocks"]["url"]
    assert f"addAppBlockId={settings.SHOPIFY_API_KEY}%2Fpicked-for-you" in steps["blocks"]["url"]
    assert "target=newAppsSection" in steps["blocks"]["url"]
    assert f"activateAppId={settings.SHOPIFY_API_KEY}%2F{EMBED_HANDLE}" in steps["app_embed"]["url"]
    assert steps["app_embed"]["external"] is True
    assert "themes(first: 1, roles: [MAIN])" in theme.queries[0]

    # And a program with a reward completes the loyalty step
    Program.objects.create(shop=shop, started_at=shop.installed_at)
    Reward.objects.create(shop=shop, name="5 off", kind="fixed_amount", points_cost=100)
    steps = {
        step["key"]: step for step in api_client_for(shop).get("/api/overview/checklist").json()["steps"]
    }
    assert steps["loyalty"]["done"] is True


def test_a_disabled_embed_or_a_theme_without_it_is_not_done() -> None:
    off = json.dumps({"current": {"blocks": {"e": {"type": EMBED, "disabled": True}}}})
    assert theme_state_from_files({"config/settings_data.json": off}).embed_on is False
    assert theme_state_from_files({"config/settings_data.json": "{}"}).embed_on is False
    placed = json.dumps(
        {"sections": {"a": {"type": "apps", "blocks": {"b": {"type": "shopify://apps/x/blocks/trending/1"}}}}}
    )
    assert theme_state_from_files({"templates/product.json": placed}).blocks_placed is True


def test_the_checklist_names_the_theme_extensions_own_blocks() -> None:
    handles = {path.stem for path in EXTENSION_BLOCKS.glob("*.liquid")}
    assert EMBED_HANDLE in handles
    assert set(PICKS_BLOCK_HANDLES) <= handles
