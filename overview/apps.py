from django.apps import AppConfig


class OverviewConfig(AppConfig):
    name = "overview"
    verbose_name = "The merchant's overview: what Omakase earns, and the first-run checklist"

    def ready(self) -> None:
        # Registrations into the lower apps' hooks, at startup (docs/architecture.md).
        from overview.pages import overview_home
        from overview.rollups import ROLLUP_JOB, rollup_job_run
        from shop_app.jobs import job_handler_register
        from shop_app.views import app_home_page_register

        job_handler_register(ROLLUP_JOB, rollup_job_run)
        app_home_page_register(overview_home)
