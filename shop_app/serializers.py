from rest_framework import serializers


class BackfillSerializer(serializers.Serializer):
    status = serializers.CharField()
    phase = serializers.CharField()
    customers_imported = serializers.IntegerField()
    orders_imported = serializers.IntegerField()
    error = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ShopDetailsSerializer(serializers.Serializer):
    domain = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    timezone = serializers.CharField()
    plan = serializers.CharField()
    installed_at = serializers.DateTimeField()


class ShopSerializer(serializers.Serializer):
    shop = ShopDetailsSerializer()
    backfill = BackfillSerializer(allow_null=True)
