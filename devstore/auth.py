"""Installations, access and refresh tokens, OAuth codes, token exchange and client credentials."""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import jwt

from devstore.db import Database, Row
from devstore.formats import now_iso
from devstore.runtime import RuntimeSettings
from devstore.shops import shop_handle
from devstore.signing import session_token_decode

GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a protocol name, not a secret
TOKEN_TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a protocol name, not a secret
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105 - a protocol name, not a secret
ONLINE_TOKEN = "urn:shopify:params:oauth:token-type:online-access-token"  # noqa: S105 - a protocol name, not a secret
GRANT_CLIENT_CREDENTIALS = "client_credentials"
CODE_TTL = 600
# An online token, and a client credentials token, answer "expires_in": 86399 (shopify.dev, "Exchange
# a session token for an access token" and "Get API access tokens for Dev Dashboard apps").
ONLINE_TOKEN_TTL = 86399
CLIENT_CREDENTIALS_TTL = 86399
# A used refresh token may be retried until its replacement is used, for at most 30 days after its
# first use (changelog "More resilient refreshes for expiring offline access tokens", 2026-08-28).
REFRESH_RETRY_WINDOW = 30 * 24 * 3600
# The admin user devstore signs in as: the shop's owner (devstore keeps no staff accounts).
ACCOUNT_OWNER_USER_ID = 1
# access_tokens.kind. Online and client credentials tokens expire too, so expiry alone does not
# tell them from an expiring offline token (the one per shop that rotates with a refresh token).
KIND_OFFLINE = "offline"
KIND_ONLINE = "online"
KIND_CLIENT_CREDENTIALS = "client_credentials"


class OAuthError(Exception):
    """An OAuth error answer: `{"error": code, "error_description": description}`."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


@dataclass(frozen=True)
class IssuedTokens:
    """A token endpoint answer, in Shopify's field order for each kind of token."""

    access_token: str
    scope: str
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None
    # Online tokens only: the scopes the user may use, and who the user is.
    associated_user_scope: str | None = None
    associated_user: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"access_token": self.access_token, "scope": self.scope}
        if self.expires_in is not None:
            data["expires_in"] = self.expires_in
        if self.refresh_token is not None:
            data["refresh_token"] = self.refresh_token
            data["refresh_token_expires_in"] = self.refresh_token_expires_in
        if self.associated_user is not None:
            data["associated_user_scope"] = self.associated_user_scope
            data["associated_user"] = self.associated_user
        return data


def flag(value: str | None) -> bool:
    """A boolean request parameter such as `expiring`: 1 or true (JSON true arrives as "True")."""
    return str(value).strip().lower() in ("1", "true")


def installation_get(db: Database, shop_id: int) -> Row | None:
    return db.one("SELECT * FROM installations WHERE shop_id = ?", (shop_id,))


def _granted_scopes(installation: Row | None, default: str) -> str:
    """The scopes the app was granted, as stored; `default` (the toml's) before any install."""
    return installation["scopes"] if installation is not None else default


def _is_active(installation: Row | None) -> bool:
    """A shop that never saw the app counts as installed (dev default); uninstall is explicit."""
    return installation is None or bool(installation["installed"])


def installation_scopes(db: Database, shop_id: int, default: str) -> set[str]:
    """The scopes the app was granted on this shop; `default` (the toml's) before any install."""
    text = _granted_scopes(installation_get(db, shop_id), default)
    return {s.strip() for s in text.split(",") if s.strip()}


def installation_is_active(db: Database, shop_id: int) -> bool:
    return _is_active(installation_get(db, shop_id))


def installation_install(db: Database, shop_id: int, scopes: str) -> None:
    db.execute(
        "INSERT INTO installations (shop_id, scopes, installed, installed_at)"
        " VALUES (?, ?, 1, ?) ON CONFLICT (shop_id) DO UPDATE SET installed = 1,"
        " scopes = excluded.scopes, installed_at = excluded.installed_at,"
        " uninstalled_at = NULL",
        (shop_id, scopes, now_iso()),
    )


def installation_uninstall(db: Database, shop_id: int, scopes: str) -> None:
    """Mark uninstalled and revoke every token the app holds for the shop."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO installations (shop_id, scopes, installed, installed_at,"
            " uninstalled_at) VALUES (?, ?, 0, ?, ?) ON CONFLICT (shop_id) DO UPDATE"
            " SET installed = 0, uninstalled_at = excluded.uninstalled_at",
            (shop_id, scopes, now_iso(), now_iso()),
        )
        conn.execute("UPDATE access_tokens SET revoked = 1 WHERE shop_id = ?", (shop_id,))
        conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE shop_id = ?", (shop_id,))


def tokens_issue(
    db: Database,
    settings: RuntimeSettings,
    shop_id: int,
    scopes: str,
    *,
    expiring: bool,
    replaces: str | None = None,
) -> IssuedTokens:
    """A new offline token; an expiring one comes with a refresh token.

    Shopify keeps one expiring offline token per app and shop: issuing one revokes
    the earlier expiring offline tokens and their refresh tokens, except `replaces`, the refresh
    token this pair was issued for, which stays good for retries (token_refresh). Online and
    client credentials tokens expire too, and stay.
    """
    now = time.time()
    access = "shpat_" + secrets.token_hex(16)
    with db.transaction() as conn:
        if expiring:
            conn.execute(
                "UPDATE access_tokens SET revoked = 1"
                " WHERE shop_id = ? AND kind = ? AND expires_at IS NOT NULL",
                (shop_id, KIND_OFFLINE),
            )
            conn.execute(
                "UPDATE refresh_tokens SET revoked = 1 WHERE shop_id = ? AND token IS NOT ?",
                (shop_id, replaces),
            )
        expires_at = now + settings.access_token_ttl if expiring else None
        _access_token_insert(conn, access, shop_id, scopes, KIND_OFFLINE, expires_at=expires_at, now=now)
        refresh = None
        if expiring:
            refresh = "shprt_" + secrets.token_hex(16)
            conn.execute(
                "INSERT INTO refresh_tokens (token, shop_id, access_token, expires_at, replaces)"
                " VALUES (?, ?, ?, ?, ?)",
                (refresh, shop_id, access, now + settings.refresh_token_ttl, replaces),
            )
    return IssuedTokens(
        access_token=access,
        scope=scopes,
        expires_in=settings.access_token_ttl if expiring else None,
        refresh_token=refresh,
        refresh_token_expires_in=settings.refresh_token_ttl if expiring else None,
    )


def _access_token_insert(
    conn: sqlite3.Connection,
    token: str,
    shop_id: int,
    scopes: str,
    kind: str,
    *,
    expires_at: float | None,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO access_tokens (token, shop_id, scopes, kind, expires_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (token, shop_id, scopes, kind, expires_at, now),
    )


def _token_without_refresh_issue(db: Database, shop_id: int, scopes: str, kind: str, ttl: int) -> str:
    """An access token of `kind` (online or client credentials) that expires after `ttl` seconds and
    has no refresh token. It leaves the shop's offline tokens alone."""
    now = time.time()
    token = "shpat_" + secrets.token_hex(16)
    with db.transaction() as conn:
        _access_token_insert(conn, token, shop_id, scopes, kind, expires_at=now + ttl, now=now)
    return token


def access_token_check(db: Database, shop_id: int, token: str | None) -> Row | None:
    """The token row if it is valid for this shop right now, else None.

    A valid token is being used: if it came from a refresh, that retires the refresh token the
    refresh spent (see token_refresh).
    """
    if not token:
        return None
    row = db.one("SELECT * FROM access_tokens WHERE token = ?", (token,))
    if row is None or row["shop_id"] != shop_id or row["revoked"]:
        return None
    if row["expires_at"] is None:
        return row  # a lasting offline token: no refresh token, nothing to retire
    if row["expires_at"] <= time.time():
        return None
    if row["kind"] == KIND_OFFLINE:
        _replaced_refresh_token_retire(db, token)
    return row


def _replaced_refresh_token_retire(db: Database, access_token: str) -> None:
    """The app uses the pair `access_token` belongs to: the refresh token it replaced is retired.

    Read first, so that only the first use of a refreshed token writes.
    """
    replaced = db.scalar(
        "SELECT p.token FROM refresh_tokens r JOIN refresh_tokens p ON p.token = r.replaces"
        " WHERE r.access_token = ? AND p.revoked = 0",
        (access_token,),
    )
    if replaced is not None:
        db.execute("UPDATE refresh_tokens SET revoked = 1 WHERE token = ?", (replaced,))


def client_check(config_key: str, config_secret: str, params: dict[str, str]) -> None:
    if params.get("client_id") != config_key or params.get("client_secret") != config_secret:
        raise OAuthError("invalid_client", "Client credentials are invalid", status=401)


def code_issue(db: Database, shop_id: int, scopes: str) -> str:
    code = secrets.token_hex(16)
    db.execute(
        "INSERT INTO oauth_codes (code, shop_id, scopes, expires_at) VALUES (?, ?, ?, ?)",
        (code, shop_id, scopes, time.time() + CODE_TTL),
    )
    return code


def code_redeem(
    db: Database, settings: RuntimeSettings, shop_id: int, code: str, *, expiring: bool
) -> IssuedTokens:
    """Authorization code grant; a code works once."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM oauth_codes WHERE code = ? AND shop_id = ?", (code, shop_id)
        ).fetchone()
        if row is None or row["used"] or row["expires_at"] <= time.time():
            raise OAuthError("invalid_grant", "The authorization code was not found or was already used")
        conn.execute("UPDATE oauth_codes SET used = 1 WHERE code = ?", (code,))
        installation_install(db, shop_id, row["scopes"])
        return tokens_issue(db, settings, shop_id, row["scopes"], expiring=expiring)


def token_exchange(
    db: Database,
    settings: RuntimeSettings,
    shop: Row,
    params: dict[str, str],
    *,
    api_key: str,
    api_secret: str,
    scopes: str,
) -> IssuedTokens:
    """Session token (id token) -> offline (or online) access token."""
    subject = params.get("subject_token")
    if not subject:
        raise OAuthError("invalid_request", "Missing subject_token")
    if params.get("subject_token_type") != TOKEN_TYPE_ID_TOKEN:
        raise OAuthError("invalid_request", "Invalid subject_token_type")
    requested = params.get("requested_token_type", OFFLINE_TOKEN)
    if requested not in (OFFLINE_TOKEN, ONLINE_TOKEN):
        raise OAuthError("invalid_request", "Invalid requested_token_type")
    try:
        claims = session_token_decode(subject, api_key=api_key, api_secret=api_secret)
    except jwt.InvalidTokenError as exc:
        raise OAuthError("invalid_subject_token", f"Invalid subject token: {exc}") from exc
    if claims["dest"] != f"https://{shop['domain']}":
        raise OAuthError("invalid_subject_token", "Subject token is for another shop")
    if requested == ONLINE_TOKEN:
        # Shopify's user id is numeric; the token answer carries it as a number.
        user_id = str(claims.get("sub", ""))
        if not user_id.isdigit():
            raise OAuthError("invalid_subject_token", "Invalid subject token: sub is not a user id")
        installation_install(db, shop["id"], scopes)
        return online_token_issue(db, shop, scopes, int(user_id))
    installation_install(db, shop["id"], scopes)
    return tokens_issue(db, settings, shop["id"], scopes, expiring=flag(params.get("expiring")))


def staff_member(shop: Row, user_id: int) -> dict[str, Any]:
    """The admin user an online token acts for, as Shopify's `associated_user` describes them.

    devstore has no staff accounts: user ACCOUNT_OWNER_USER_ID is the shop's owner (the admin
    signs in as them); any other id is a staff member with a made-up name and address.
    """
    owner = user_id == ACCOUNT_OWNER_USER_ID
    return {
        "id": user_id,
        "first_name": "Shop" if owner else "Staff",
        "last_name": "Owner" if owner else f"Member {user_id}",
        "email": shop["email"] if owner else f"staff-{user_id}@{shop_handle(shop)}.example",
        "email_verified": True,
        "account_owner": owner,
        "locale": "en",
        "collaborator": False,
    }


def online_token_issue(db: Database, shop: Row, scopes: str, user_id: int) -> IssuedTokens:
    """An online (per-user) token: 24 hours, no refresh token, and the user it acts for.

    devstore has no per-user permissions, so the user may use every granted scope.
    """
    token = _token_without_refresh_issue(db, shop["id"], scopes, KIND_ONLINE, ONLINE_TOKEN_TTL)
    return IssuedTokens(
        access_token=token,
        scope=scopes,
        expires_in=ONLINE_TOKEN_TTL,
        associated_user_scope=scopes,
        associated_user=staff_member(shop, user_id),
    )


def client_credentials_grant(
    db: Database, shop: Row, *, in_app_organization: bool, scopes: str
) -> IssuedTokens:
    """The client credentials grant: the app's own id and secret buy a 24-hour token, no refresh.

    Shopify allows it only for an app on a store of the app's own organization, with the app
    installed there (shopify.dev, "Using the client credentials grant"); the errors are Shopify's.
    `scopes` are the app's configured ones, used when devstore never saw an install.
    """
    if not in_app_organization:
        raise OAuthError("shop_not_permitted", "Client credentials cannot be performed on this shop.")
    installation = installation_get(db, shop["id"])
    if not _is_active(installation):
        raise OAuthError("app_not_installed", "The application is not installed on this shop.")
    granted = _granted_scopes(installation, scopes)
    token = _token_without_refresh_issue(
        db, shop["id"], granted, KIND_CLIENT_CREDENTIALS, CLIENT_CREDENTIALS_TTL
    )
    return IssuedTokens(access_token=token, scope=granted, expires_in=CLIENT_CREDENTIALS_TTL)


def token_refresh(
    db: Database, settings: RuntimeSettings, shop_id: int, refresh_token: str | None
) -> IssuedTokens:
    """Rotate: a new access and refresh token pair for a refresh token.

    As Shopify does since 2026-08-28, a used refresh token is not spent at once, so that an app
    whose answer was lost can retry it: each retry answers a new pair (and revokes the pair the
    earlier answer carried). It is retired when the app starts using its replacement, the first
    use of the new access token (access_token_check) or the new refresh token (here), and it
    works for at most REFRESH_RETRY_WINDOW after its first use, never past its own expiry.

    Checking and issuing are one transaction (BEGIN IMMEDIATE): concurrent refreshes queue, and
    the last to run holds the only live pair.
    """
    if not refresh_token:
        raise OAuthError("invalid_request", "Missing refresh_token")
    now = time.time()
    with db.transaction() as conn:
        used = conn.execute(
            "UPDATE refresh_tokens SET used_at = COALESCE(used_at, ?) WHERE token = ? AND shop_id = ?"
            " AND revoked = 0 AND expires_at > ? AND (used_at IS NULL OR used_at > ?)",
            (now, refresh_token, shop_id, now, now - REFRESH_RETRY_WINDOW),
        )
        if used.rowcount != 1:
            raise OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked")
        row = conn.execute(
            "SELECT t.scopes FROM refresh_tokens r LEFT JOIN access_tokens t ON t.token = r.access_token"
            " WHERE r.token = ?",
            (refresh_token,),
        ).fetchone()
        scopes = (row["scopes"] if row is not None else None) or ""
        # Revokes every other refresh token, so also the one this token replaced, kept for retries
        # until now.
        return tokens_issue(db, settings, shop_id, scopes, expiring=True, replaces=refresh_token)
