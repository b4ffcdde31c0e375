"""The signed links of the emails: no login, each scoped to one reader and one purpose.

A token says which shop and reader, what it may do (`confirm` the pending topics, `manage` the
preference center, `unsubscribe` from one topic or from all), and the reader's token version:
bumping the version revokes every link sent so far. Signed with the project's secret (Django's
signing, HMAC-SHA256), salted per purpose so that one purpose's token never opens another.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from newsletters.models import Subscriber
from shop_app.models import Shop

SCOPES = ("confirm", "manage", "unsubscribe")
# Links in old emails keep working for a year (a reader may leave from any issue they kept);
# confirmation links for a week.
MAX_AGE_SECONDS = {"confirm": 7 * 86_400, "manage": 366 * 86_400, "unsubscribe": 366 * 86_400}


class TokenInvalid(Exception):
    pass


@dataclass(frozen=True)
class LinkToken:
    shop: Shop
    subscriber: Subscriber
    scope: str
    topic_id: int | None  # unsubscribe: the topic to leave; None: all


def _salt(scope: str) -> str:
    return f"newsletters:{scope}"


def token_signer(scope: str) -> signing.TimestampSigner:
    """What signs a scope's tokens (as signing.dumps would): made once, it signs the links of
    every reader of an issue."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    return signing.TimestampSigner(salt=_salt(scope))


def token_make(
    subscriber: Subscriber,
    scope: str,
    topic_id: int | None = None,
    signer: signing.TimestampSigner | None = None,
) -> str:
    """A link token; `signer` is token_signer(scope), when the caller made it already."""
    signer = signer or token_signer(scope)
    if signer.salt != _salt(scope):
        raise ValueError(f"a signer of another scope than {scope!r}")
    payload = {"s": subscriber.shop_id, "r": subscriber.pk, "v": subscriber.token_version}
    if topic_id is not None:
        payload["t"] = topic_id
    return signer.sign_object(payload, compress=False)


def token_read(token: str, scope: str) -> LinkToken:
    """The token's reader, if it is signed for this scope, not too old and not revoked."""
    try:
        payload = signing.loads(token, salt=_salt(scope), max_age=MAX_AGE_SECONDS[scope])
    except (signing.BadSignature, KeyError, ValueError) as error:
        raise TokenInvalid(str(error)) from error
    if not isinstance(payload, dict) or not all(isinstance(payload.get(key), int) for key in "rsv"):
        raise TokenInvalid("not a link token")
    subscriber = (
        Subscriber.objects.select_related("shop")
        .filter(pk=int(payload["r"]), shop_id=int(payload["s"]), token_version=int(payload["v"]))
        .first()
    )
    if subscriber is None or not subscriber.shop.is_installed:
        raise TokenInvalid("no such reader")
    topic = payload.get("t")
    return LinkToken(subscriber.shop, subscriber, scope, topic if isinstance(topic, int) else None)
