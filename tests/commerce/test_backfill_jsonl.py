import json

import pytest

from commerce.backfill import BackfillFailed, backfill_import_lines, jsonl_objects
from commerce.models import Backfill, Customer
from shop_app.models import Shop


def lines(*objects: dict[str, object]) -> list[str]:
    return [json.dumps(obj) for obj in objects]


def test_children_are_gathered_under_their_parent_in_order() -> None:
    given = lines(
        {"id": "gid://shopify/Order/1", "name": "#1001"},
        {"id": "gid://shopify/LineItem/11", "quantity": 2, "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/12", "quantity": 1, "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/Order/2", "name": "#1002"},
        {"id": "gid://shopify/Order/3", "name": "#1003"},
        {"id": "gid://shopify/LineItem/31", "quantity": 5, "__parentId": "gid://shopify/Order/3"},
    )

    objects = list(jsonl_objects(given))

    assert [(line, obj["name"]) for line, obj in objects] == [(3, "#1001"), (4, "#1002"), (6, "#1003")]
    first = objects[0][1]
    assert [edge["node"]["id"] for edge in first["lineItems"]["edges"]] == [
        "gid://shopify/LineItem/11",
        "gid://shopify/LineItem/12",
    ]
    assert "__parentId" not in first["lineItems"]["edges"][0]["node"]
    assert "lineItems" not in objects[1][1]


def test_blank_lines_are_ignored_and_an_empty_file_yields_nothing() -> None:
    assert list(jsonl_objects(["", "  "])) == []


def test_an_orphan_child_is_an_error_not_a_silent_drop() -> None:
    given = lines(
        {"id": "gid://shopify/Order/1"},
        {"id": "gid://shopify/LineItem/9", "__parentId": "gid://shopify/Order/7"},
    )

    with pytest.raises(BackfillFailed, match="does not follow its parent"):
        list(jsonl_objects(given))


def test_an_import_step_stops_at_its_limit_and_the_next_resumes_where_it_stopped(shop: Shop) -> None:
    file = lines(
        *(
            {
                "id": f"gid://shopify/Customer/{n}",
                "email": f"c{n}@example.com",
                "updatedAt": "2026-01-01T00:00:00Z",
            }
            for n in range(1, 8)
        )
    )
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING)

    finished_first = backfill_import_lines(backfill, file, limit=3)
    finished_second = backfill_import_lines(backfill, file, limit=3)
    finished_third = backfill_import_lines(backfill, file, limit=3)

    assert (finished_first, finished_second, finished_third) == (False, False, True)
    assert backfill.customers_imported == 7
    assert backfill.lines_processed == 7
    assert Customer.objects.for_shop(shop).count() == 7


def test_reimporting_a_finished_file_adds_nothing(shop: Shop) -> None:
    file = lines(
        {"id": "gid://shopify/Customer/1", "email": "c1@example.com", "updatedAt": "2026-01-01T00:00:00Z"}
    )
    backfill = Backfill.objects.create(shop=shop, status=Backfill.Status.RUNNING)
    backfill_import_lines(backfill, file)

    assert backfill_import_lines(backfill, file) is True
    assert backfill.customers_imported == 1
    assert Customer.objects.for_shop(shop).count() == 1
