from django.apps import AppConfig


class ShopAppConfig(AppConfig):
    name = "shop_app"
    verbose_name = "Shops: install, authentication, the Admin API client and the embedded admin"
