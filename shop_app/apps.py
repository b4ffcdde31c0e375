from django.apps import AppConfig


class ShopAppConfig(AppConfig):
    name = "shop_app"
    verbose_name = "Shops: install, authentication, the Admin API client and the embedded admin"

    def ready(self) -> None:
        from django.utils.translation import gettext_noop

        from shop_app.admin import NavItem, admin_nav_register
        from shop_app.install import AFTER_INSTALL_JOB, shop_after_install_run
        from shop_app.jobs import job_handler_register

        admin_nav_register(NavItem(label=gettext_noop("Overview"), path="/", order=0))
        job_handler_register(AFTER_INSTALL_JOB, shop_after_install_run)
