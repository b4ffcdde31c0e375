from django.apps import AppConfig


class PersonalizeConfig(AppConfig):
    name = "personalize"
    verbose_name = "Shopper profiles, recommendations, the storefront and newsletters"

    def ready(self) -> None:
        from personalize.privacy import PERSONALIZE_PRIVACY_PROVIDER
        from webhooks.privacy import privacy_provider_register

        privacy_provider_register(PERSONALIZE_PRIVACY_PROVIDER)
