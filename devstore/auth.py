"""Installations, access and refresh tokens, OAuth codes and token exchange."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from devstore.db import Database, Row
from devstore.formats import now_iso
from devstore.runtime import RuntimeSettings
from devstore.signing import session_token_decode

GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a protocol name, not a secret
TOKEN_TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a protocol name, not a secret
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105 - a protocol name, not a secret
ONLINE_TOKEN = "urn:shopify:params:oauth:token-type:online-access-token"  # noqa: S105 - a protocol name, not a secret
CODE_TTL = 600


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
    access_token: str
    scope: str
    expires_in: int | None
    refresh_token: str | None
    refresh_token_expires_in: int | None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"access_token": self.access_token, "scope": self.scope}
        if self.expires_in is not None:
            data["expires_in"] = self.expires_in
            data["refresh_token"] = self.refresh_token
            data["refresh_token_expires_in"] = self.refresh_token_expires_in
        return data


def flag(value: str | None) -> bool:
    """A boolean request parameter such as `expiring`: 1 or true (JSON true arrives as "True")."""
    return str(value).strip().lower() in ("1", "true")


def installation_get(db: Database, shop_id: int) -> Row | None:
    return db.one("SELECT * FROM installations WHERE shop_id = ?", (shop_id,))


def installation_scopes(db: Database, shop_id: int, default: str) -> set[str]:
    """The scopes the app was granted on this shop; `default` (the toml's) before any install."""
    row = installation_get(db, shop_id)
    text = row["scopes"] if row is not None else default
    return {s.strip() for s in text.split(",") if s.strip()}


def installation_is_active(db: Database, shop_id: int) -> bool:
    """A shop that never saw the app counts as installed (dev default); uninstall is explicit."""
    row = installation_get(db, shop_id)
    return row is None or bool(row["installed"])


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
    db: Database, settings: RuntimeSettings, shop_id: int, scopes: str, *, expiring: bool
) -> IssuedTokens:
    """A new offline token; an expiring one comes with a refresh token.

    Shopify keeps one expiring offline token per app and shop: issuing one revokes
    the earlier expiring tokens and their refresh tokens.
    """
    now = time.time()
    access = "shpat_" + secrets.token_hex(16)
    with db.transaction() as conn:
        if expiring:
            conn.execute(
                "UPDATE access_tokens SET revoked = 1 WHERE shop_id = ? AND expires_at IS NOT NULL",
                (shop_id,),
            )
            conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE shop_id = ?", (shop_id,))
        expires_at = now + settings.access_token_ttl if expiring else None
        conn.execute(
            "INSERT INTO access_tokens (token, shop_id, scopes, expires_at,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            (access, shop_id, scopes, expires_at, now),
        )
        refresh = None
        if expiring:
            refresh = "shprt_" + secrets.token_hex(16)
            conn.execute(
                "INSERT INTO refresh_tokens (token, shop_id, access_token, expires_at) VALUES (?, ?, ?, ?)",
                (refresh, shop_id, access, now + settings.refresh_token_ttl),
            )
    return IssuedTokens(
        access_token=access,
        scope=scopes,
        expires_in=settings.access_token_ttl if expiring else None,
        refresh_token=refresh,
        refresh_token_expires_in=settings.refresh_token_ttl if expiring else None,
    )


def access_token_check(db: Database, shop_id: int, token: str | None) -> Row | None:
    """The token row if it is valid for this shop right now, else None."""
    if not token:
        return None
    row = db.one("SELECT * FROM access_tokens WHERE token = ?", (token,))
    if row is None or row["shop_id"] != shop_id or row["revoked"]:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= time.time():
        return None
    return row


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
    installation_install(db, shop["id"], scopes)
    expiring = flag(params.get("expiring"))
    if requested == ONLINE_TOKEN:
        # Online tokens are not the app's concern here; issue a short one without refresh.
        return tokens_issue(db, settings, shop["id"], scopes, expiring=False)
    return tokens_issue(db, settings, shop["id"], scopes, expiring=expiring)


def token_refresh(
    db: Database, settings: RuntimeSettings, shop_id: int, refresh_token: str | None
) -> IssuedTokens:
    """Rotate: the refresh token is spent, a new access and refresh token pair is issued.

    Spending and issuing are one transaction, and the spend is a conditional update: of two
    concurrent refreshes with one token, exactly one finds it unrevoked; the other gets
    invalid_grant.
    """
    if not refresh_token:
        raise OAuthError("invalid_request", "Missing refresh_token")
    with db.transaction() as conn:
        spent = conn.execute(
            "UPDATE refresh_tokens SET revoked = 1 WHERE token = ? AND shop_id = ? AND revoked = 0"
            " AND expires_at > ?",
            (refresh_token, shop_id, time.time()),
        )
        if spent.rowcount != 1:
            raise OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked")
        row = conn.execute(
            "SELECT t.scopes FROM refresh_tokens r LEFT JOIN access_tokens t ON t.token = r.access_token"
            " WHERE r.token = ?",
            (refresh_token,),
        ).fetchone()
        scopes = (row["scopes"] if row is not None else None) or ""
        return tokens_issue(db, settings, shop_id, scopes, expiring=True)
