"""Redemption: reserve the points, create the single-use code through the Admin API, confirm.

1. Reserve, under the member's row lock: the same idempotency key finds its redemption (never a
   second); otherwise the available points are checked and the cost is taken as a `redeem` entry
   with the redemption row, in one transaction. Not enough points: nothing is written.
2. Issue, under the redemption's row lock (a retry of the same request waits here and then reads
   the code): create the code, record it. If Shopify refuses, or fails and has no code by that
   name when asked, the points come back (`redeem_return`) and the redemption is failed; the same
   request sent again tries again.

The member's lock is never held while Shopify is called: the shopper's other points keep moving.
Reservations a dead process left behind are settled by redemptions_maintain (beat), or by the same
request sent again, both of which ask Shopify for the code first; issued codes that expired unused
are settled by redemptions_maintain too (the program's policy).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from loyalty.ledger import (
    Balances,
    LedgerError,
    NotEnoughPoints,
    Shortfall,
    balances_of,
    entry_append,
    member_locked,
)
from loyalty.models import Entry, Member, Program, Redemption, Reward
from loyalty.program import program_for, reward_get
from loyalty.shopify import (
    STORE_CREDIT_SCOPE,
    UNCERTAIN_ERRORS,
    ShopifyRefused,
    code_create,
    code_lookup,
    redemption_code,
    store_credit_give,
)
from shop_app.admin_api import AdminClient, admin_client_for_shop
from shop_app.models import Shop

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
# A reservation older than this with no answer belongs to a process that died mid-way.
RESERVATION_STALE = timedelta(minutes=5)


@dataclass(frozen=True)
class RedemptionResult:
    redemption: Redemption
    balances: Balances


def redeem(
    shop: Shop,
    customer_id: int,
    reward_id: int,
    idempotency_key: str,
    *,
    client: AdminClient | None = None,
    now: datetime | None = None,
) -> RedemptionResult:
    """Spend points on a reward. NotEnoughPoints (nothing reserved) when short; LedgerError for
    a bad input. The result's redemption is issued (its code) or failed (points returned)."""
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.match(idempotency_key):
        raise LedgerError("idempotency_key", "must be 8 to 128 letters, digits or _ . : -")
    reward = reward_get(shop, reward_id)
    if reward is None or not reward.active:
        raise LedgerError("reward_id", "is not a reward of this shop")
    if reward.kind == Reward.Kind.STORE_CREDIT and STORE_CREDIT_SCOPE not in shop.granted_scopes:
        raise LedgerError("reward_id", "store credit needs a permission the shop has not granted")
    redemption, reserved_before = _reserve(shop, customer_id, reward, idempotency_key, now or timezone.now())
    # A reservation an earlier request made may have reached Shopify before that request's process
    # died (a worker killed while it waited for the answer): ask for its code before making it.
    redemption = redemption_issue(shop, redemption.pk, client=client, recover=reserved_before)
    member = Member.objects.get(pk=redemption.member_id)
    return RedemptionResult(redemption, balances_of(member))


def _reserve(
    shop: Shop, customer_id: int, reward: Reward, key: str, now: datetime
) -> tuple[Redemption, bool]:
    """The redemption of this key, reserved, and whether an earlier request reserved it."""
    program = program_for(shop)
    with transaction.atomic():
        member = member_locked(shop, customer_id, program)
        redemption = Redemption.objects.for_shop(shop).filter(member=member, idempotency_key=key).first()
        if redemption is not None and redemption.status != Redemption.Status.FAILED:
            return redemption, True  # the same request again: its redemption, whatever its state
        if redemption is not None and redemption.reward_id != reward.pk:
            raise LedgerError("idempotency_key", "was used for another reward")
        available = balances_of(member, now).available
        if available < reward.points_cost:
            raise NotEnoughPoints(available=max(available, 0), needed=reward.points_cost)
        if redemption is None:
            redemption = Redemption.objects.create(
                shop=shop, member=member, reward=reward, idempotency_key=key, points=reward.points_cost
            )
        else:  # a failed request sent again: try again, with a fresh reservation
            redemption.attempts += 1
            redemption.status = Redemption.Status.RESERVED
            redemption.points = reward.points_cost
            redemption.save(update_fields=["attempts", "status", "points", "updated_at"])
        entry_append(
            member,
            points=-reward.points_cost,
            kind=Entry.Kind.REDEEM,
            cause=f"reward {reward.name}",
            key=f"redemption:{redemption.pk}:{redemption.attempts}",
            now=now,
            usable_only=True,
            shortfall=Shortfall.REFUSE,
        )
    return redemption, False


def redemption_issue(
    shop: Shop, redemption_pk: int, *, client: AdminClient | None = None, recover: bool = False
) -> Redemption:
    """Create a reserved redemption's code (or store credit) in Shopify and record it; on failure
    return the points. `recover`: a reservation left by a dead process, so ask Shopify for the code
    before creating it."""
    with transaction.atomic():
        redemption = (
            Redemption.objects.for_shop(shop)
            .select_for_update()
            .select_related("reward", "member")
            .get(pk=redemption_pk)
        )
        if redemption.status != Redemption.Status.RESERVED:
            return redemption
        client = client or admin_client_for_shop(shop)
        reward = redemption.reward
        customer_id = redemption.member.customer_shopify_id
        code = redemption_code(shop, redemption)
        ends_at = timezone.now() + timedelta(days=reward.expires_after_days)
        try:
            if reward.kind == Reward.Kind.STORE_CREDIT:
                gid = store_credit_give(client, customer_id, reward.value, shop.currency, ends_at)
                code = ""
            else:
                found = code_lookup(client, code) if recover else None
                gid = (
                    found[0]
                    if found
                    else code_create(client, reward, code, customer_id, ends_at).discount_gid
                )
        except ShopifyRefused as refused:
            return _failed(shop, redemption, str(refused))
        except UNCERTAIN_ERRORS as error:
            # The code may exist: ask before giving the points back.
            found = (
                _lookup_quietly(client, code) if code and reward.kind != Reward.Kind.STORE_CREDIT else None
            )
            if found is None:
                return _failed(shop, redemption, type(error).__name__)
            gid = found[0]
        except Exception as error:
            logger.warning("redemption %s: Shopify failed: %s", redemption.pk, type(error).__name__)
            return _failed(shop, redemption, type(error).__name__)
        redemption.status = Redemption.Status.ISSUED
        redemption.code = code
        redemption.discount_gid = gid
        redemption.expires_at = ends_at
        redemption.last_error = ""
        redemption.save(
            update_fields=["status", "code", "discount_gid", "expires_at", "last_error", "updated_at"]
        )
    return redemption


def _lookup_quietly(client: AdminClient, code: str) -> tuple[str, int] | None:
    try:
        return code_lookup(client, code)
    except Exception:
        return None


def _failed(shop: Shop, redemption: Redemption, error: str) -> Redemption:
    """Give the reservation's points back and mark the redemption failed (in the caller's
    transaction, which holds the redemption's lock)."""
    member = member_locked(shop, redemption.member.customer_shopify_id)
    entry_append(
        member,
        points=redemption.points,
        kind=Entry.Kind.REDEEM_RETURN,
        cause=f"reward {redemption.reward.name} not issued",
        key=f"redemption:{redemption.pk}:{redemption.attempts}:returned",
    )
    redemption.status = Redemption.Status.FAILED
    redemption.last_error = error[:500]
    redemption.save(update_fields=["status", "last_error", "updated_at"])
    logger.info("redemption %s failed, points returned: %s", redemption.pk, error[:200])
    return redemption


def redemptions_maintain(shop: Shop, now: datetime | None = None, client: AdminClient | None = None) -> int:
    """Beat: settle reservations a dead process left (ask Shopify for the code), and apply the
    program's policy to codes past their end that were never used. Returns how many changed."""
    now = now or timezone.now()
    program = program_for(shop)
    changed = 0
    stale = Redemption.objects.for_shop(shop).filter(
        status=Redemption.Status.RESERVED, updated_at__lt=now - RESERVATION_STALE
    )
    for pk in stale.values_list("pk", flat=True)[:100]:
        redemption_issue(shop, pk, client=client, recover=True)
        changed += 1
    ended = (
        Redemption.objects.for_shop(shop)
        .filter(status=Redemption.Status.ISSUED, expires_at__lt=now)
        .exclude(code="")
    )
    for redemption in ended.select_related("reward", "member")[:100]:
        client = client or admin_client_for_shop(shop)
        found = code_lookup(client, redemption.code)
        with transaction.atomic():
            row = Redemption.objects.select_for_update().get(pk=redemption.pk)
            if row.status != Redemption.Status.ISSUED:
                continue
            if found is not None and found[1] > 0:
                row.status = Redemption.Status.USED
            else:
                row.status = Redemption.Status.EXPIRED
                if program.unused_code_policy == Program.UnusedCodePolicy.RETURN:
                    member = member_locked(shop, redemption.member.customer_shopify_id)
                    entry_append(
                        member,
                        points=row.points,
                        kind=Entry.Kind.REDEEM_RETURN,
                        cause=f"reward {redemption.reward.name} expired unused",
                        key=f"redemption:{row.pk}:expired",
                        now=now,
                    )
            row.save(update_fields=["status", "updated_at"])
            changed += 1
    return changed
