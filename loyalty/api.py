"""Embedded-admin APIs of the loyalty program (session-token authenticated, through the shop)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from loyalty.adjustments import points_adjust
from loyalty.figures import program_figures
from loyalty.ledger import LedgerError, NotEnoughPoints, balances_of, member_get
from loyalty.models import Entry, Program, Redemption, Reward, Tier
from loyalty.program import POINTS_MAX, ProgramError, policies_save, program_for, rules_clean, rules_save
from loyalty.widget import widget_for, widget_language
from shop_app.admin import AdminApi

CUSTOMER_ID = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


def _refused(field: str, message: str, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({field: [message]}, status=code)


class ProgramOutput(serializers.ModelSerializer[Program]):
    class Meta:
        model = Program
        fields = [
            "enabled",
            "started_at",
            "rules_version",
            "rules",
            "expiry_mode",
            "expiry_days",
            "reminder_days",
            "refund_policy",
            "unused_code_policy",
            "tier_basis",
            "tier_period_days",
            "birthday_points",
            "birthday_reward",
            "holdout_percent",
            "incentive_notice",
            "incentive_notice_version",
        ]


class PoliciesInput(serializers.Serializer[Any]):
    enabled = serializers.BooleanField(required=False)
    expiry_mode = serializers.ChoiceField(choices=Program.ExpiryMode.choices, required=False)
    expiry_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    reminder_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    refund_policy = serializers.ChoiceField(choices=Program.RefundPolicy.choices, required=False)
    unused_code_policy = serializers.ChoiceField(choices=Program.UnusedCodePolicy.choices, required=False)
    tier_basis = serializers.ChoiceField(choices=Program.TierBasis.choices, required=False)
    tier_period_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    birthday_points = serializers.IntegerField(min_value=0, max_value=POINTS_MAX, required=False)
    holdout_percent = serializers.IntegerField(min_value=0, max_value=50, required=False)
    incentive_notice = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    rules = serializers.JSONField(required=False)


class ProgramApi(AdminApi):
    """GET /api/loyalty/program; PUT with any of its policies and `rules` (a new rules version
    when they change)."""

    def get(self, request: Request) -> Response:
        return Response(ProgramOutput(program_for(self.shop(request))).data)

    def put(self, request: Request) -> Response:
        shop = self.shop(request)
        data = PoliciesInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        rules = values.pop("rules", None)
        try:
            if rules is not None:
                rules_save(shop, rules_clean(rules))
        except ProgramError as error:
            return _refused(error.field, error.message)
        if values:
            policies_save(shop, values)
        return Response(ProgramOutput(program_for(shop)).data)


class RewardSerializer(serializers.ModelSerializer[Reward]):
    class Meta:
        model = Reward
        fields = [
            "id",
            "name",
            "kind",
            "value",
            "points_cost",
            "minimum_order",
            "expires_after_days",
            "active",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind, value = attrs.get("kind"), attrs.get("value")
        if kind == Reward.Kind.PERCENTAGE and value is not None and not 0 < value <= 100:
            raise serializers.ValidationError({"value": "a percentage is from 1 to 100"})
        if kind in (Reward.Kind.FIXED_AMOUNT, Reward.Kind.STORE_CREDIT) and (value is None or value <= 0):
            raise serializers.ValidationError({"value": "must be an amount above zero"})
        if attrs.get("points_cost") == 0:
            raise serializers.ValidationError({"points_cost": "must be at least 1"})
        return attrs


class RewardsApi(AdminApi):
    """GET /api/loyalty/rewards: every reward; POST one."""

    def get(self, request: Request) -> Response:
        rewards = Reward.objects.for_shop(self.shop(request))
        return Response({"rewards": RewardSerializer(rewards, many=True).data})

    def post(self, request: Request) -> Response:
        data = RewardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reward = data.save(shop=self.shop(request))
        return Response(RewardSerializer(reward).data, status=status.HTTP_201_CREATED)


class RewardApi(AdminApi):
    """PATCH /api/loyalty/rewards/{id}: change a reward (`active: false` withdraws it)."""

    def patch(self, request: Request, reward_id: int) -> Response:
        reward = Reward.objects.for_shop(self.shop(request)).filter(pk=reward_id).first()
        if reward is None:
            return _refused("reward", "not found", status.HTTP_404_NOT_FOUND)
        data = RewardSerializer(reward, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(RewardSerializer(data.save()).data)


class TierSerializer(serializers.ModelSerializer[Tier]):
    class Meta:
        model = Tier
        fields = ["id", "name", "threshold", "multiplier", "benefits"]
        read_only_fields = ["id"]


class TiersApi(AdminApi):
    """GET /api/loyalty/tiers; POST one; DELETE /api/loyalty/tiers/{id}."""

    def get(self, request: Request) -> Response:
        return Response({"tiers": TierSerializer(Tier.objects.for_shop(self.shop(request)), many=True).data})

    def post(self, request: Request) -> Response:
        data = TierSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tier = data.save(shop=self.shop(request))
        return Response(TierSerializer(tier).data, status=status.HTTP_201_CREATED)


class TierApi(AdminApi):
    def delete(self, request: Request, tier_id: int) -> Response:
        deleted, _ = Tier.objects.for_shop(self.shop(request)).filter(pk=tier_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT if deleted else status.HTTP_404_NOT_FOUND)


class EntryOutput(serializers.ModelSerializer[Entry]):
    class Meta:
        model = Entry
        fields = [
            "id",
            "points",
            "kind",
            "cause",
            "rules_version",
            "debt",
            "available_at",
            "reason",
            "actor",
            "created_at",
        ]


class CustomerLedgerApi(AdminApi):
    """GET /api/loyalty/customers/{shopify customer id}: balances and the ledger, newest first."""

    def get(self, request: Request, customer_id: int) -> Response:
        shop = self.shop(request)
        member = member_get(shop, customer_id)
        if member is None:
            return Response({"customer_id": customer_id, "member": None, "entries": [], "redemptions": []})
        balances = balances_of(member)
        entries = Entry.objects.for_shop(shop).filter(member=member).order_by("-created_at", "-pk")[:500]
        redemptions = Redemption.objects.for_shop(shop).filter(member=member).select_related("reward")
        return Response(
            {
                "customer_id": customer_id,
                "member": {
                    "available": balances.available,
                    "pending": balances.pending,
                    "lifetime": balances.lifetime,
                    "debt": balances.debt,
                    "joined_at": member.joined_at,
                    "holdout": member.holdout,
                    "tier": member.tier.name if member.tier else None,
                    "birthday": {"month": member.birthday_month, "day": member.birthday_day}
                    if member.birthday_month
                    else None,
                },
                "entries": EntryOutput(entries, many=True).data,
                "redemptions": [
                    {
                        "id": redemption.pk,
                        "reward": redemption.reward.name,
                        "status": redemption.status,
                        "code": redemption.code,
                        "points": redemption.points,
                        "created_at": redemption.created_at,
                    }
                    for redemption in redemptions.order_by("-pk")[:100]
                ],
            }
        )


class AdjustmentInput(serializers.Serializer[Any]):
    points = serializers.IntegerField(min_value=-POINTS_MAX, max_value=POINTS_MAX)
    reason = serializers.CharField(min_length=1, max_length=500)
    idempotency_key = serializers.RegexField(r"^[A-Za-z0-9_.:-]{8,128}$", required=False)

    def validate_points(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("must not be zero")
        return value


class AdjustmentsApi(AdminApi):
    """POST /api/loyalty/customers/{shopify customer id}/adjustments {"points", "reason"}: add or
    take points, at once, on record with who did it; 409 when taking more than the balance."""

    def post(self, request: Request, customer_id: int) -> Response:
        CUSTOMER_ID.run_validation(customer_id)
        data = AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        shop = self.shop(request)
        try:
            entry = points_adjust(
                shop,
                customer_id,
                data.validated_data["points"],
                data.validated_data["reason"],
                actor=str(getattr(request.user, "user_id", "")),
                key=data.validated_data.get("idempotency_key", ""),
            )
        except NotEnoughPoints as short:
            return _refused("points", short.message, status.HTTP_409_CONFLICT)
        except LedgerError as error:
            return _refused(error.field, error.message)
        member = member_get(shop, customer_id)
        assert member is not None
        balances = balances_of(member)
        return Response(
            {
                "entry": EntryOutput(entry).data,
                "balance": {
                    "available": balances.available,
                    "pending": balances.pending,
                    "lifetime": balances.lifetime,
                },
            },
            status=status.HTTP_201_CREATED,
        )


class FiguresApi(AdminApi):
    """GET /api/loyalty/figures: liability, redemption rate, repeat rates (members, others, holdout)."""

    def get(self, request: Request) -> Response:
        figures = program_figures(self.shop(request))
        return Response({**figures.__dict__, "as_of": timezone.now()})


class PreviewApi(AdminApi):
    """GET /api/loyalty/preview?customer_id=&locale=: the storefront widget's answer, as that
    shopper (or a guest) would get it."""

    def get(self, request: Request) -> Response:
        raw = request.query_params.get("customer_id") or None
        customer_id = CUSTOMER_ID.run_validation(raw) if raw else None
        language = widget_language(request.query_params.get("locale", ""))
        return Response(widget_for(self.shop(request), customer_id, language))
