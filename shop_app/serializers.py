from rest_framework import serializers


class ShopDetailsSerializer(serializers.Serializer):
    domain = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    timezone = serializers.CharField()
    plan = serializers.CharField()
    installed_at = serializers.DateTimeField()


class ShopSerializer(serializers.Serializer):
    shop = ShopDetailsSerializer()
