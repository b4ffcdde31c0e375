from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "What Shopify tells us, mirrored: customers, orders, refunds, the catalog and stock"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from commerce.backfill import BACKFILL_STEP_JOB, backfill_step_run
        from commerce.catalog_memory import catalog_changed
        from commerce.models import Product, Variant
        from commerce.privacy import COMMERCE_PRIVACY_PROVIDER
        from commerce.reconcile import (
            COLLECTION_REFRESH_JOB,
            RECONCILE_JOB,
            collection_refresh_run,
            reconcile_run,
        )
        from privacy.registry import privacy_provider_register
        from shop_app.jobs import job_handler_register

        privacy_provider_register(COMMERCE_PRIVACY_PROVIDER)
        job_handler_register(BACKFILL_STEP_JOB, backfill_step_run)
        job_handler_register(COLLECTION_REFRESH_JOB, collection_refresh_run)
        job_handler_register(RECONCILE_JOB, reconcile_run)
        # A product or variant saved through the ORM (the admin, a script, a test) changes what
        # processes hold in memory; commerce.ingest's bulk writes call catalog_changed themselves.
        for model in (Product, Variant):
            post_save.connect(
                lambda instance, **_: catalog_changed(instance.shop_id),
                sender=model,
                weak=False,
                dispatch_uid=f"catalog_changed_{model.__name__}",
            )
