from django.apps import AppConfig


class PersonalizeConfig(AppConfig):
    name = "personalize"
    verbose_name = "Shopper profiles, recommendations and the storefront blocks"
