from django.apps import AppConfig


class ShopAppConfig(AppConfig):
    name = "shop_app"
    verbose_name = "Shops: install, authentication, the Admin API client and the embedded admin"

    def ready(self) -> None:
        from django.db.models.signals import post_save
        from django.utils.translation import gettext_noop

        from shop_app.admin import NavItem, admin_nav_register
        from shop_app.install import AFTER_INSTALL_JOB, shop_after_install_run
        from shop_app.jobs import job_handler_register
        from shop_app.models import Shop
        from shop_app.proxy import held_shop_forget

        admin_nav_register(NavItem(label=gettext_noop("Overview"), path="/", order=0))
        job_handler_register(AFTER_INSTALL_JOB, shop_after_install_run)
        # The storefront's door holds shops for a moment (shop_app.proxy): one saved here is read again.
        post_save.connect(
            lambda instance, **_: held_shop_forget(instance.domain),
            sender=Shop,
            weak=False,
            dispatch_uid="held_shop_forget",
        )
