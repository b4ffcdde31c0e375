from django.apps import AppConfig


class PersonalizeConfig(AppConfig):
    name = "personalize"
    verbose_name = "Shopper profiles, recommendations and the storefront blocks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from commerce.catalog_memory import catalog_changed
        from personalize.admin_pages import CUSTOMERS_NAV, PERSONALIZATION_NAV
        from personalize.candidates import (
            CANDIDATES_PRECOMPUTE,
            candidates_precompute_handler,
            profile_refresh_then_candidates,
            profiles_recompute_then_candidates,
            profiles_refresh_then_candidates,
        )
        from personalize.models import RecommendationSettings
        from personalize.pixel_activation import PIXEL_ACTIVATE, pixel_activate_handler, pixel_activate_later
        from personalize.privacy import PERSONALIZE_PRIVACY_PROVIDER
        from personalize.refresh import PROFILE_REFRESH, PROFILES_RECOMPUTE, PROFILES_REFRESH
        from personalize.shopify_sync import METAFIELDS_SYNC, metafields_sync_handler
        from privacy.registry import privacy_provider_register
        from shop_app.admin import admin_nav_register
        from shop_app.jobs import job_handler_register
        from shop_app.lifecycle import after_install_register

        privacy_provider_register(PERSONALIZE_PRIVACY_PROVIDER)
        # Candidates follow profiles (personalize.candidates).
        job_handler_register(PROFILE_REFRESH, profile_refresh_then_candidates)
        job_handler_register(PROFILES_REFRESH, profiles_refresh_then_candidates)
        job_handler_register(PROFILES_RECOMPUTE, profiles_recompute_then_candidates)
        job_handler_register(METAFIELDS_SYNC, metafields_sync_handler)
        job_handler_register(CANDIDATES_PRECOMPUTE, candidates_precompute_handler)
        # The web pixel gets its settings (the shop's key) once the app is installed.
        job_handler_register(PIXEL_ACTIVATE, pixel_activate_handler)
        after_install_register(pixel_activate_later)
        # The merchant's rules are held with the catalog in memory (personalize.picks.serving_rules).
        for signal in (post_save, post_delete):
            signal.connect(
                lambda instance, **_: catalog_changed(instance.shop_id),
                sender=RecommendationSettings,
                weak=False,
                dispatch_uid=f"catalog_changed_rules_{signal is post_save}",
            )
        admin_nav_register(CUSTOMERS_NAV)
        admin_nav_register(PERSONALIZATION_NAV)
