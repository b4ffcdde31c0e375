from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Points, rewards and tiers"

    def ready(self) -> None:
        from loyalty.admin_pages import LOYALTY_NAV
        from loyalty.earning import ORDERS_SYNC, orders_sync_handler
        from loyalty.ledger import member_changed_register
        from loyalty.maintenance import HOURLY, NIGHTLY, hourly_handler, nightly_handler
        from loyalty.mirror import METAFIELDS_SYNC, metafields_sync_handler, mirror_member_changed
        from loyalty.privacy import LOYALTY_PRIVACY_PROVIDER
        from privacy.registry import privacy_provider_register
        from shop_app.admin import admin_nav_register
        from shop_app.jobs import job_handler_register

        privacy_provider_register(LOYALTY_PRIVACY_PROVIDER)
        job_handler_register(METAFIELDS_SYNC, metafields_sync_handler)
        job_handler_register(ORDERS_SYNC, orders_sync_handler)
        job_handler_register(HOURLY, hourly_handler)
        job_handler_register(NIGHTLY, nightly_handler)
        member_changed_register(mirror_member_changed)
        admin_nav_register(LOYALTY_NAV)
