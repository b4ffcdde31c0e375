from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy: the provider registry, suppressed shoppers, privacy requests and exports"

    def ready(self) -> None:
        from privacy.requests import privacy_exports_provider_register

        privacy_exports_provider_register()
