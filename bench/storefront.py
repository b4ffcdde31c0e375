"""The storefront figures of `make bench` (issue 12), measured in a real Chromium on devstore's
home, product and collection pages, with and without the app's blocks:

- storefront_fill_ms: from first paint to the last block filled (omakase.js marks each), the median
  of STOREFRONT_LOADS loads of each page, the slowest page's; beside it, that page's time to first
  paint without the blocks (from the navigation's start);
- storefront_layout_shift_added: the most the blocks added to a page's layout shift (CLS's sum of
  shifts not caused by input).

They come from the end-to-end test that checks the blocks (tests/e2e/test_storefront_blocks.py: a
signed-in shopper with history, on loopback, against a live devstore and a worker), run by pytest
in a process of its own, on a database of its own, with each page loaded several times; it writes
what it measured to the file STOREFRONT_MEASURED names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TEST = (
    "tests/e2e/test_storefront_blocks.py::"
    "test_a_signed_in_shopper_sees_picks_with_reasons_dismisses_one_and_the_page_does_not_move"
)
LOADS = 5


class MeasurementFailed(Exception):
    """The browser's measurement could not be taken (its test failed or wrote nothing)."""


def storefront_measure(environment: dict[str, str], database_url: str, workdir: Path) -> dict[str, Any]:
    """Runs the test with `environment` (the caller's own, not the bench server's settings) on a
    database named after `database_url`'s with `_storefront` added (pytest-django makes and drops
    its own `test_` copy), and returns the figures."""
    parts = urlsplit(database_url)
    database = urlunsplit(parts._replace(path=parts.path + "_storefront"))
    output = workdir / "storefront.json"
    log = workdir / "storefront.log"
    env = {
        **environment,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database,
        "STOREFRONT_MEASURED": str(output),
        "STOREFRONT_LOADS": str(LOADS),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db", TEST]
    with log.open("wb") as written:
        finished = subprocess.run(
            command, check=False, cwd=ROOT, env=env, stdout=written, stderr=subprocess.STDOUT
        )
    if finished.returncode != 0 or not output.exists():
        raise MeasurementFailed(f"bench: the storefront measurement failed; see {log}")
    measured = json.loads(output.read_text())
    fills: dict[str, float] = measured["fill_ms_after_first_paint"]
    bare_paints: dict[str, float] = measured["first_paint_ms_without_blocks"]
    added = {
        name: measured["layout_shift"][name] - measured["layout_shift_without_blocks"][name]
        for name in measured["layout_shift"]
    }
    slowest = max(fills, key=lambda name: fills[name])
    return {
        "storefront_fill_ms": fills[slowest],
        "storefront_fill_ms_by_page": fills,
        "storefront_first_paint_ms_without_blocks": bare_paints[slowest],
        "storefront_first_paint_ms_without_blocks_by_page": bare_paints,
        "storefront_first_paint_ms_by_page": measured["first_paint_ms"],
        "storefront_layout_shift_added": max(added.values()),
        "storefront_layout_shift_added_by_page": added,
        "storefront_loads_per_page": measured["loads_per_page"],
    }
