import json

import pytest

from shop_app.backfill import BackfillFailed, jsonl_objects


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
