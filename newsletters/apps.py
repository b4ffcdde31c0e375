from django.apps import AppConfig


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = "Newsletters by topic, at each reader's cadence"

    def ready(self) -> None:
        from newsletters.admin_pages import NEWSLETTERS_NAV
        from newsletters.privacy import NEWSLETTERS_PRIVACY_PROVIDER
        from newsletters.sending import ISSUE_DELIVERIES_JOB, issue_deliveries_handler
        from newsletters.shopify_consent import CONSENT_WRITE_JOB, consent_write_handler
        from privacy.registry import privacy_provider_register
        from shop_app.admin import admin_nav_register
        from shop_app.jobs import job_handler_register

        privacy_provider_register(NEWSLETTERS_PRIVACY_PROVIDER)
        job_handler_register(ISSUE_DELIVERIES_JOB, issue_deliveries_handler)
        job_handler_register(CONSENT_WRITE_JOB, consent_write_handler)
        admin_nav_register(NEWSLETTERS_NAV)
