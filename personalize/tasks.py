"""Celery tasks of personalize. Thin: call a service. (Profile refreshes and recomputes run as shop
jobs, shop_app.jobs; their handlers are registered in apps.py.)"""

from celery import shared_task

from personalize.refresh import profiles_recompute_all_shops


@shared_task(name="personalize.tasks.recompute_all_profiles")
def recompute_all_profiles() -> None:
    """Beat, nightly: one full recompute job per installed shop."""
    profiles_recompute_all_shops()
