from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "What Shopify tells us, mirrored: customers, orders, refunds, the catalog and stock"

    def ready(self) -> None:
        from commerce.privacy import COMMERCE_PRIVACY_PROVIDER
        from privacy.registry import privacy_provider_register

        privacy_provider_register(COMMERCE_PRIVACY_PROVIDER)
