"""OAuth: authorize and callback hmac, code grant, token exchange (offline and online), refresh and
its retry window, client credentials, expiry, uninstall, and how the token endpoint answers errors."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient

from devstore import auth
from devstore.config import AppToml, DevstoreConfig, app_toml_load
from devstore.context import Devstore
from devstore.db import Row
from devstore.server import create_app
from tests.devstore.conftest import API_KEY, API_SECRET, OTHER_SHOP, SHOP, VERSION, Receiver

# The shopifyapp package asks for JSON; without it Shopify answers an error as an HTML page.
JSON = {"Accept": "application/json"}
EXCHANGE = {
    "client_id": API_KEY,
    "client_secret": API_SECRET,
    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
}


def _session_token(client: TestClient) -> str:
    return str(client.post("/_devstore/session-token", json={"user_id": 7}).json()["session_token"])


def _shop_query(client: TestClient, token: str) -> int:
    return client.post(
        f"/admin/api/{VERSION}/graphql.json",
        json={"query": "{ shop { id } }"},
        headers={"X-Shopify-Access-Token": token},
    ).status_code


def test_authorize_redirects_with_a_callback_hmac_we_can_recompute(
    client: TestClient, shop: Row, receiver: Receiver
) -> None:
    # When the merchant approves the install
    response = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "nonce-1",
            "auto": "1",
            "redirect_uri": f"{receiver.url}/auth/callback",
        },
        follow_redirects=False,
    )

    # Then Shopify's callback carries code, host, shop, state, timestamp and their hmac
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.path == "/auth/callback"
    params = dict(parse_qsl(location.query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP
    assert params["state"] == "nonce-1"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    assert params["hmac"] == hmac.new(API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_without_auto_the_merchant_sees_a_grant_page(
    client: TestClient, shop: Row, receiver: Receiver
) -> None:
    response = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "s",
            "redirect_uri": f"{receiver.url}/auth/callback",
        },
    )

    assert response.status_code == 200
    assert "Install app" in response.text


def test_a_code_is_exchanged_once(client: TestClient, shop: Row, receiver: Receiver) -> None:
    location = client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "s",
            "auto": "1",
            "redirect_uri": f"{receiver.url}/auth/callback",
        },
        follow_redirects=False,
    ).headers["location"]
    code = dict(parse_qsl(urlsplit(location).query))["code"]
    form = {"client_id": API_KEY, "client_secret": API_SECRET, "code": code}

    first = client.post("/admin/oauth/access_token", data=form)
    second = client.post("/admin/oauth/access_token", data=form, headers=JSON)

    assert first.status_code == 200
    assert first.json()["scope"] == "read_orders"
    assert _shop_query(client, first.json()["access_token"]) == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_token_exchange_gives_an_expiring_token_and_a_refresh_token(client: TestClient, shop: Row) -> None:
    response = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "scope", "expires_in", "refresh_token", "refresh_token_expires_in"}
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 90 * 24 * 3600
    assert _shop_query(client, body["access_token"]) == 200


def test_token_exchange_without_expiring_gives_a_lasting_token(client: TestClient, shop: Row) -> None:
    body = client.post(
        "/admin/oauth/access_token",
        data={**EXCHANGE, "subject_token": _session_token(client), "expiring": "0"},
    ).json()

    assert set(body) == {"access_token", "scope"}


def test_a_bad_subject_token_or_client_is_refused(client: TestClient, shop: Row) -> None:
    bad_subject = client.post(
        "/admin/oauth/access_token", json={**EXCHANGE, "subject_token": "not.a.jwt"}, headers=JSON
    )
    bad_client = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "client_secret": "wrong", "subject_token": _session_token(client)},
        headers=JSON,
    )

    assert bad_subject.status_code == 400
    assert bad_subject.json()["error"] == "invalid_subject_token"
    assert bad_client.status_code == 401
    assert bad_client.json()["error"] == "invalid_client"


def test_an_expired_session_token_is_an_invalid_subject_token(client: TestClient, shop: Row) -> None:
    old = client.post("/_devstore/session-token", json={"ttl": -60}).json()["session_token"]

    response = client.post("/admin/oauth/access_token", json={**EXCHANGE, "subject_token": old}, headers=JSON)

    assert response.json()["error"] == "invalid_subject_token"


def _expiring_pair(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    ).json()
    return body


def _refresh(client: TestClient, refresh_token: str) -> Any:
    return client.post(
        "/admin/oauth/access_token",
        data={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
        headers=JSON,
    )


def test_refresh_rotates_both_tokens(client: TestClient, shop: Row) -> None:
    first = _expiring_pair(client)

    second = _refresh(client, first["refresh_token"])

    assert second.status_code == 200
    assert set(second.json()) == {
        "access_token",
        "scope",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert second.json()["access_token"] != first["access_token"]
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert _shop_query(client, second.json()["access_token"]) == 200
    assert _shop_query(client, first["access_token"]) == 401


def test_a_used_refresh_token_can_be_retried_while_its_replacement_is_unused(
    client: TestClient, shop: Row
) -> None:
    # Given a refresh whose answer the app never received
    first = _expiring_pair(client)
    lost = _refresh(client, first["refresh_token"]).json()

    # When the app retries with the refresh token it still holds
    retried = _refresh(client, first["refresh_token"])

    # Then it gets a new pair, which works, and the lost answer's pair is retired
    assert retried.status_code == 200
    pair = retried.json()
    assert pair["access_token"] not in (first["access_token"], lost["access_token"])
    assert pair["refresh_token"] not in (first["refresh_token"], lost["refresh_token"])
    assert _shop_query(client, pair["access_token"]) == 200
    assert _refresh(client, lost["refresh_token"]).json()["error"] == "invalid_grant"


def test_using_the_new_access_token_retires_the_previous_refresh_token(client: TestClient, shop: Row) -> None:
    # Given a refresh answered twice (the first answer lost)
    first = _expiring_pair(client)
    lost = _refresh(client, first["refresh_token"]).json()
    current = _refresh(client, first["refresh_token"]).json()

    # When the app calls the API with the new access token
    assert _shop_query(client, current["access_token"]) == 200

    # Then the refresh token it used is refused, with Shopify's error
    refused = _refresh(client, first["refresh_token"])
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid, expired or revoked",
    }
    # and the pair in use still works, while the lost answer's stays retired
    assert _shop_query(client, current["access_token"]) == 200
    assert _refresh(client, lost["refresh_token"]).status_code == 400


def test_using_the_new_refresh_token_retires_the_previous_one(client: TestClient, shop: Row) -> None:
    first = _expiring_pair(client)
    second = _refresh(client, first["refresh_token"]).json()

    third = _refresh(client, second["refresh_token"])

    assert third.status_code == 200
    assert _refresh(client, first["refresh_token"]).json()["error"] == "invalid_grant"
    # while the token just used is, in turn, retryable until its own replacement is used
    assert _refresh(client, second["refresh_token"]).status_code == 200


def test_the_retry_window_closes_thirty_days_after_the_first_use(
    client: TestClient, ds: Devstore, shop: Row
) -> None:
    first = _expiring_pair(client)
    _refresh(client, first["refresh_token"])
    # Given the first use was 30 days ago (the token itself lives 90)
    ds.db.execute(
        "UPDATE refresh_tokens SET used_at = used_at - ? WHERE token = ?",
        (auth.REFRESH_RETRY_WINDOW + 1, first["refresh_token"]),
    )

    assert _refresh(client, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_new_token_exchange_retires_a_refresh_token_kept_for_retries(client: TestClient, shop: Row) -> None:
    first = _expiring_pair(client)
    _refresh(client, first["refresh_token"])

    _expiring_pair(client)

    assert _refresh(client, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_the_token_endpoint_answers_errors_as_json_only_to_who_accepts_json(
    client: TestClient, shop: Row
) -> None:
    form = {"client_id": API_KEY, "client_secret": API_SECRET, "grant_type": "refresh_token"}
    form["refresh_token"] = "shprt_unknown"

    page = client.post("/admin/oauth/access_token", data=form)
    data = client.post("/admin/oauth/access_token", data=form, headers=JSON)

    assert page.status_code == data.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "Oauth error invalid_grant: The refresh token is invalid, expired or revoked" in page.text
    assert data.json()["error"] == "invalid_grant"


def test_short_lifetimes_set_through_the_control_api(client: TestClient, shop: Row) -> None:
    client.post("/_devstore/settings", json={"access_token_ttl": 1, "refresh_token_ttl": 1})
    issued = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    ).json()
    assert issued["expires_in"] == 1

    time.sleep(1.1)

    assert _shop_query(client, issued["access_token"]) == 401
    refused = client.post(
        "/admin/oauth/access_token",
        data={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
        },
        headers=JSON,
    )
    assert refused.json()["error"] == "invalid_grant"


def test_uninstall_revokes_tokens_and_tells_the_app(
    client: TestClient, ds: Devstore, token: str, receiver: Receiver
) -> None:
    client.post("/_devstore/uninstall", json={})

    assert _shop_query(client, token) == 401
    request = receiver.wait_for(1)[0]
    assert request.headers["X-Shopify-Topic"] == "app/uninstalled"
    assert request.json()["myshopify_domain"] == SHOP


ROOT = Path(__file__).resolve().parents[2]
# As the repository's shopify.app.toml has it: the callback on the production-style host.
APP_TOML = AppToml(
    application_url="http://127.0.0.1:8000/",
    redirect_urls=("http://127.0.0.1:8000/auth/callback",),
    present=True,
)


def _authorize(client: TestClient, redirect_uri: str) -> Any:
    return client.get(
        "/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_orders",
            "state": "s",
            "auto": "1",
            "redirect_uri": redirect_uri,
        },
        follow_redirects=False,
    )


def _code(client: TestClient, redirect_uri: str) -> str:
    location = _authorize(client, redirect_uri).headers["location"]
    return dict(parse_qsl(urlsplit(location).query))["code"]


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://attacker.example.com/auth/callback", "{app}/auth/callback/../steal", "{app}/other"],
)
def test_authorize_refuses_a_redirect_uri_the_toml_does_not_list(
    client: TestClient, ds: Devstore, shop: Row, receiver: Receiver, redirect_uri: str
) -> None:
    # Given the grant page too: the merchant is never asked for an unlisted redirect
    target = redirect_uri.format(app=receiver.url)
    grant = client.get(
        "/admin/oauth/authorize",
        params={"client_id": API_KEY, "scope": "read_orders", "state": "s", "redirect_uri": target},
    )
    approved = _authorize(client, target)

    for response in (grant, approved):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "Oauth error invalid_request" in response.text
        assert "redirect_uri" in response.text
    assert ds.db.scalar("SELECT COUNT(*) FROM oauth_codes") == 0


@pytest.mark.parametrize("app_toml", [APP_TOML])
def test_a_listed_redirect_url_is_accepted_as_rebased_onto_app_url(
    client: TestClient, shop: Row, config: DevstoreConfig, app_toml: AppToml
) -> None:
    # APP_URL is the test receiver (a live server), not the toml's 127.0.0.1:8000
    app_callback = config.app_url + "/auth/callback"
    assert app_callback != "http://127.0.0.1:8000/auth/callback"

    rebased = _authorize(client, app_callback)
    literal = _authorize(client, "http://127.0.0.1:8000/auth/callback")
    elsewhere = _authorize(client, config.app_url + "/auth/other")

    assert rebased.status_code == 302
    assert rebased.headers["location"].startswith(app_callback + "?")
    assert literal.status_code == 302
    assert elsewhere.status_code == 400


def test_the_repositorys_toml_accepts_the_apps_callback_on_a_live_server_host() -> None:
    config = DevstoreConfig(
        app_url="http://localhost:51234", app_toml=app_toml_load(ROOT / "shopify.app.toml")
    )

    assert config.redirect_uri_allowed("http://localhost:51234/auth/callback")
    assert not config.redirect_uri_allowed("http://localhost:51234/auth/callbackx")
    assert not config.redirect_uri_allowed("http://evil.example.com/auth/callback")


@pytest.mark.parametrize("expiring", ["1", 1, True, "true"])
def test_the_code_grant_can_ask_for_an_expiring_token(
    client: TestClient, shop: Row, receiver: Receiver, expiring: object
) -> None:
    code = _code(client, receiver.url + "/auth/callback")

    response = client.post(
        "/admin/oauth/access_token",
        json={"client_id": API_KEY, "client_secret": API_SECRET, "code": code, "expiring": expiring},
    )

    body = response.json()
    assert response.status_code == 200, body
    assert set(body) == {"access_token", "scope", "expires_in", "refresh_token", "refresh_token_expires_in"}
    assert body["scope"] == "read_orders"
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 90 * 24 * 3600
    assert _shop_query(client, body["access_token"]) == 200
    refreshed = client.post(
        "/admin/oauth/access_token",
        json={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["scope"] == "read_orders"


def test_two_concurrent_refreshes_of_one_refresh_token_leave_one_live_pair(
    client: TestClient, ds: Devstore, shop: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = client.post(
        "/admin/oauth/access_token",
        json={**EXCHANGE, "subject_token": _session_token(client), "expiring": "1"},
    ).json()
    # Both refreshes are held just before new tokens are issued, so that the second checks the
    # refresh token while the first is still between its check and its issue.
    meet = threading.Barrier(2, timeout=1.5)
    real_issue = auth.tokens_issue

    def issue_when_both_arrive(*args: Any, **kwargs: Any) -> auth.IssuedTokens:
        with contextlib.suppress(threading.BrokenBarrierError):  # the other was refused meanwhile
            meet.wait()
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(auth, "tokens_issue", issue_when_both_arrive)
    outcomes: list[str] = []
    answers: list[auth.IssuedTokens] = []
    lock = threading.Lock()

    def refresh() -> None:
        try:
            answer = auth.token_refresh(ds.db, ds.settings, shop["id"], issued["refresh_token"])
            outcome = "ok"
        except auth.OAuthError as exc:
            outcome = exc.code
        finally:
            ds.db.close()
        with lock:
            outcomes.append(outcome)
            if outcome == "ok":
                answers.append(answer)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Both are answered (the second is a retry of a used token), one after the other: only the last
    # answer's refresh token is live, besides the used one kept for retries.
    assert outcomes == ["ok", "ok"]
    live = {r["token"] for r in ds.db.all("SELECT token FROM refresh_tokens WHERE revoked = 0")}
    assert live == {issued["refresh_token"], answers[-1].refresh_token}


ONLINE = {**EXCHANGE, "requested_token_type": "urn:shopify:params:oauth:token-type:online-access-token"}
CLIENT_CREDENTIALS = {"client_id": API_KEY, "client_secret": API_SECRET, "grant_type": "client_credentials"}


def test_an_online_token_expires_in_a_day_and_names_its_user(client: TestClient, shop: Row) -> None:
    # Given a session token for staff member 7
    response = client.post(
        "/admin/oauth/access_token", data={**ONLINE, "subject_token": _session_token(client)}
    )

    # Then the answer has Shopify's online shape: expiry, the user's scopes and the user
    body = response.json()
    assert response.status_code == 200
    assert list(body) == ["access_token", "scope", "expires_in", "associated_user_scope", "associated_user"]
    assert body["expires_in"] == 86399
    assert body["associated_user_scope"] == body["scope"]
    assert body["associated_user"] == {
        "id": 7,
        "first_name": "Staff",
        "last_name": "Member 7",
        "email": "staff-7@omakase-demo.example",
        "email_verified": True,
        "account_owner": False,
        "locale": "en",
        "collaborator": False,
    }
    assert _shop_query(client, body["access_token"]) == 200


def test_an_online_token_for_the_admin_user_is_the_account_owners(client: TestClient, shop: Row) -> None:
    owner_token = client.post(
        "/_devstore/session-token", json={"user_id": auth.ACCOUNT_OWNER_USER_ID}
    ).json()["session_token"]

    user = client.post("/admin/oauth/access_token", json={**ONLINE, "subject_token": owner_token}).json()[
        "associated_user"
    ]

    assert user["id"] == auth.ACCOUNT_OWNER_USER_ID
    assert user["account_owner"] is True
    assert user["email"] == shop["email"]


def _a_day_later(ds: Devstore, token: str) -> None:
    ds.db.execute("UPDATE access_tokens SET expires_at = ? WHERE token = ?", (time.time() - 1, token))


def test_an_online_token_expires_and_leaves_the_offline_token_alone(
    client: TestClient, ds: Devstore, shop: Row
) -> None:
    # Given an expiring offline pair and an online token
    offline = _expiring_pair(client)
    online = client.post(
        "/admin/oauth/access_token", json={**ONLINE, "subject_token": _session_token(client)}
    ).json()["access_token"]

    # When the app refreshes the offline pair
    assert _shop_query(client, offline["access_token"]) == 200
    assert _refresh(client, offline["refresh_token"]).status_code == 200

    # Then the online token still works, until its day is over
    assert _shop_query(client, online) == 200
    _a_day_later(ds, online)
    assert _shop_query(client, online) == 401


def test_a_client_credentials_token_outlives_an_offline_refresh(
    client: TestClient, ds: Devstore, shop: Row
) -> None:
    # Given an expiring offline pair and a client credentials token
    offline = _expiring_pair(client)
    token = client.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS).json()["access_token"]

    # When the app refreshes the offline pair
    assert _refresh(client, offline["refresh_token"]).status_code == 200

    # Then the client credentials token still works, until its day is over
    assert _shop_query(client, token) == 200
    _a_day_later(ds, token)
    assert _shop_query(client, token) == 401


def test_a_client_credentials_token_outlives_a_new_expiring_offline_token(
    client: TestClient, ds: Devstore, shop: Row
) -> None:
    # Given a client credentials token
    token = client.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS).json()["access_token"]

    # When the app exchanges a session token for an expiring offline token
    assert _expiring_pair(client)["refresh_token"]

    # Then the client credentials token still works, until its day is over
    assert _shop_query(client, token) == 200
    _a_day_later(ds, token)
    assert _shop_query(client, token) == 401


def test_client_credentials_give_the_organizations_own_shop_a_day_long_token(
    client: TestClient, shop: Row
) -> None:
    response = client.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS)

    body = response.json()
    assert response.status_code == 200
    assert list(body) == ["access_token", "scope", "expires_in"]
    assert body["expires_in"] == 86399
    assert body["scope"] == AppToml().scopes
    assert _shop_query(client, body["access_token"]) == 200


def test_client_credentials_leave_the_shops_offline_tokens_alone(client: TestClient, shop: Row) -> None:
    offline = _expiring_pair(client)

    client.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS)

    assert _shop_query(client, offline["access_token"]) == 200
    assert _refresh(client, offline["refresh_token"]).status_code == 200


def test_client_credentials_are_refused_on_a_shop_outside_the_apps_organization(
    client: TestClient, other_shop: Row
) -> None:
    page = client.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS, headers={"Host": OTHER_SHOP})
    data = client.post(
        "/admin/oauth/access_token", data=CLIENT_CREDENTIALS, headers={"Host": OTHER_SHOP, **JSON}
    )

    assert page.status_code == 400
    assert "Oauth error shop_not_permitted: Client credentials cannot be performed on this shop." in page.text
    assert data.json()["error"] == "shop_not_permitted"


def test_a_shop_listed_as_the_organizations_may_use_client_credentials(
    tmp_path: Path, receiver: Receiver
) -> None:
    store_config = DevstoreConfig(
        db_path=str(tmp_path / "organization.sqlite3"),
        default_shop=SHOP,
        app_url=receiver.url,
        api_key=API_KEY,
        api_secret=API_SECRET,
        organization_shops=(OTHER_SHOP,),
    )
    with TestClient(create_app(store_config), headers={"Host": OTHER_SHOP}) as other:
        other.post("/_devstore/shops", json={"domain": OTHER_SHOP})

        response = other.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS)

    assert response.status_code == 200


def test_client_credentials_need_the_app_installed(client: TestClient, shop: Row) -> None:
    client.post("/_devstore/uninstall", json={})

    response = client.post("/admin/oauth/access_token", data=CLIENT_CREDENTIALS, headers=JSON)

    assert response.status_code == 400
    assert response.json() == {
        "error": "app_not_installed",
        "error_description": "The application is not installed on this shop.",
    }


def test_client_credentials_need_the_right_secret(client: TestClient, shop: Row) -> None:
    response = client.post(
        "/admin/oauth/access_token", data={**CLIENT_CREDENTIALS, "client_secret": "wrong"}, headers=JSON
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_organizations_shops_come_from_the_environment() -> None:
    config = DevstoreConfig.from_env(
        {"DEVSTORE_ORGANIZATION_SHOPS": "Second.myshopify.com, third.myshopify.com"}
    )

    assert config.shop_in_app_organization(config.default_shop)
    assert config.shop_in_app_organization("second.myshopify.com")
    assert config.shop_in_app_organization("third.myshopify.com")
    assert not config.shop_in_app_organization("elsewhere.myshopify.com")
