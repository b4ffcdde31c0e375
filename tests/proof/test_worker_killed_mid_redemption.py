"""The app's web worker (gunicorn, a process of its own) killed in the middle of a redemption:
the points are reserved and Shopify (the devstore process) has made the code, but its answer never
arrives. After gunicorn starts a new worker, the shopper's same request answers that code, and
beat's maintenance changes nothing more: one code in Shopify, its points spent once."""

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from loyalty.ledger import ledger_differences
from loyalty.models import Redemption
from loyalty.redemption import redemptions_maintain
from tests.live import AppServerStart, Devstore, wait_for
from tests.proof.test_shopify_failing import redeem_at_the_door, shopper_with_points

pytestmark = pytest.mark.integration


def test_a_worker_killed_mid_redemption_leaves_one_code_paid_for_once_after_restart(
    devstore: Devstore, app_server_process: AppServerStart, live_server: Any
) -> None:
    # Given a shopper with 250 points, the app served by gunicorn, and Shopify that makes the next
    # code and then holds its answer
    shopper = shopper_with_points(devstore)
    server = app_server_process(
        {
            "SHOPIFY_BASE_URL_OVERRIDE": devstore.url,
            "SHOPIFY_CDN_BASE": f"{devstore.url}/cdn",
            "APP_URL": live_server.url,
            "SHOPIFY_READ_TIMEOUT": "60",
        }
    )
    devstore.settings(failure={"remaining": 1, "status": 200, "delay_seconds": 60})

    # When the shopper redeems, and the worker serving the request is killed while it waits for
    # Shopify's answer, once the code exists
    with ThreadPoolExecutor(max_workers=1) as browser:
        request = browser.submit(redeem_at_the_door, shopper, "proof-killed-01", server.url)
        codes = wait_for(lambda: shopper.codes_in_shopify(devstore), timeout=30, interval=0.05)
        [worker] = server.worker_pids()
        os.kill(worker, signal.SIGKILL)
        with pytest.raises(httpx.HTTPError):
            request.result(timeout=30)
    assert Redemption.objects.for_shop(shopper.shop).get().status == Redemption.Status.RESERVED
    assert shopper.available() == 150

    # And gunicorn starts a new worker, and the shopper sends the same request again
    wait_for(lambda: server.worker_pids() not in ([], [worker]) and server.answers(), timeout=60)
    again = redeem_at_the_door(shopper, "proof-killed-01", server.url)

    # Then it answers the code Shopify made, and the points were spent once
    assert again.status_code == 200, again.text
    assert [again.json()["code"]] == codes
    assert shopper.available() == 150
    # And beat's maintenance, once the reservation is old, changes nothing
    redemptions_maintain(shopper.shop, now=timezone.now() + timedelta(minutes=10))
    redemption = Redemption.objects.for_shop(shopper.shop).get()
    assert (redemption.status, redemption.code) == (Redemption.Status.ISSUED, codes[0])
    assert shopper.codes_in_shopify(devstore) == codes
    assert shopper.available() == 150
    assert ledger_differences(shopper.shop) == []
