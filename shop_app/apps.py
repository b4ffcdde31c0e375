from django.apps import AppConfig


class ShopAppConfig(AppConfig):
    name = "shop_app"
    verbose_name = "Shops: install, authentication, the Admin API client and the embedded admin"

    def ready(self) -> None:
        from shop_app.admin import NavItem, admin_nav_register

        admin_nav_register(NavItem(label="Overview", path="/", order=0))
