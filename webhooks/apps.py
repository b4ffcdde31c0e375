from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhook intake and processing"

    def ready(self) -> None:
        from webhooks.privacy import WEBHOOKS_PRIVACY_PROVIDER, privacy_provider_register

        privacy_provider_register(WEBHOOKS_PRIVACY_PROVIDER)
