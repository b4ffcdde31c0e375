from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhook intake and processing, and where modules' events meet"

    def ready(self) -> None:
        from privacy.registry import privacy_provider_register
        from webhooks.privacy import WEBHOOKS_PRIVACY_PROVIDER
        from webhooks.reactions import reactions_wire

        privacy_provider_register(WEBHOOKS_PRIVACY_PROVIDER)
        reactions_wire()
